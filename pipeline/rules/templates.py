"""Site templates learnt from the corpus itself: a short paragraph that recurs, exactly after
normalisation, in several documents of one site is template chrome however it is worded.

The idea is CCNet's and onion's line deduplication, scoped to a site: the site is the document's
host when known, else the folder of its source file. Counting is a pure map over batches
(`count_templates`) whose results add up, so the corpus pass streams.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pipeline import textutil

RULE_ID = "site_template"
KIND = "site_template"


def site_of(hostname: str | None, source_path: str | None) -> str:
    if hostname:
        return hostname.lower().removeprefix("www.")
    return "folder:" + posixpath.dirname(source_path or "")


def _key(text: str, max_words: int) -> int | None:
    norm = textutil.normalise(text)
    if not norm or len(norm.split()) > max_words:
        return None
    return int.from_bytes(hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest(), "big")


def count_templates(rows: Iterable[tuple[str, str]], sites: Mapping[str, str],
                    max_words: int) -> Counter[tuple[str, int]]:
    """(doc_id, text) rows -> number of distinct documents per (site, normalised paragraph)."""
    seen: set[tuple[str, str, int]] = set()
    counts: Counter[tuple[str, int]] = Counter()
    for doc_id, text in rows:
        key = _key(text, max_words)
        site = sites.get(doc_id)
        if key is None or site is None or (doc_id, site, key) in seen:
            continue
        seen.add((doc_id, site, key))
        counts[(site, key)] += 1
    return counts


@dataclass(frozen=True)
class TemplateIndex:
    counts: Mapping[tuple[str, int], int]
    min_docs: int
    max_words: int
    # Sites with at least one template: on any other site no paragraph needs normalising at all.
    sites: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sites = frozenset(site for (site, _), n in self.counts.items() if n >= self.min_docs)
        object.__setattr__(self, "sites", sites)

    def documents_sharing(self, site: str | None, text: str) -> int:
        """How many documents of the site hold this paragraph, when that makes it a template."""
        if site not in self.sites:
            return 0
        key = _key(text, self.max_words)
        if site is None or key is None:
            return 0
        n = self.counts.get((site, key), 0)
        return n if n >= self.min_docs else 0
