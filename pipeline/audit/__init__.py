"""Auditing a run: per-stage diffs of a document, its provenance, and a self-contained HTML report.

The renderers (`diff`, `show`, `report`) are pure functions from tables to text; `load` is the thin
I/O layer the command line calls, and `commands` wires both to `pipeline diff|show|report`.
"""
