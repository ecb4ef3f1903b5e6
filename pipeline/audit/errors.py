"""Errors of the audit commands that mean the user asked for something that is not there."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UnknownDocument(LookupError):
    """A DOC_ID that the run never saw; the message lists the nearest ids it did see."""


def near_matches(doc_id: str, known: Iterable[str], n: int = 5) -> list[str]:
    """Ids that contain the query (a prefix such as `002` is the common slip), then difflib's closest."""
    ids = sorted(set(known))
    query = doc_id.casefold()
    containing = [d for d in ids if query and query in d.casefold()]
    close = difflib.get_close_matches(doc_id, ids, n=n, cutoff=0.5)
    out: list[str] = []
    for d in containing + close:
        if d not in out:
            out.append(d)
    return out[:n]


def unknown_document(doc_id: str, known: Iterable[str], where: str) -> UnknownDocument:
    known = list(known)
    near = near_matches(doc_id, known)
    hint = f"; did you mean: {', '.join(near)}?" if near else ""
    return UnknownDocument(f"no document {doc_id!r} in {where} ({len(set(known))} documents){hint}")
