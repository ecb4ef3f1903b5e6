"""The stages: pure functions from Arrow tables to a StageResult; no file I/O in here."""
