"""Strip: mark paragraphs that are site chrome, by rule, leaving every row in place."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import compress
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema
from pipeline.params import StripParams
from pipeline.result import StageResult
from pipeline.rules import Rule, RuleSet, heuristics, templates
from pipeline.rules.lines import LineMatcher
from pipeline.rules.templates import TemplateIndex
from pipeline.stages.strip_rows import STAGE, BatchRows, counters


@dataclass(frozen=True)
class DocVerdict:
    marks: list[Rule | None]  # the rule that flags each paragraph, or None
    guarded: bool             # the guard refused to remove what the rules flagged
    removed_fraction: float


def _apply_actions(own: Sequence[Rule | None], paras: Sequence[str]) -> list[Rule | None]:
    """Spread block rules over what follows them; a paragraph's own rule always wins.

    So inside a comment section the Akismet notice keeps `akismet_notice_v1` and only the
    paragraphs no rule knows take the section header's id.
    """
    marks = list(own)
    for i, rule in enumerate(own):
        if rule is None or rule.action == "remove":
            continue
        if rule.action == "remove_rest":
            if not _rest_allowed(rule, paras, i):
                marks[i] = None  # an "About X" heading mid-article is a heading, not boilerplate
                continue
            rule = _confirmed(rule, own, i)
            for j in range(i, len(paras)):
                marks[j] = rule if j == i else (marks[j] or rule)
            break  # everything after the first section header is already marked
        if rule.action == "remove_with_next":
            if i + 1 < len(paras) and _short_enough(paras[i + 1], rule):
                marks[i + 1] = marks[i + 1] or rule
            continue
        max_words = int(rule.options.get("max_words", 20))
        for j in heuristics.following_teasers(paras, own, i, max_words):
            marks[j] = rule
    return marks


def _rest_allowed(rule: Rule, paras: Sequence[str], i: int) -> bool:
    """A tail section (press-release boilerplate) may only take the end of a document."""
    limit = rule.options.get("rest_max_fraction")
    if limit is None:
        return True
    total = sum(len(p) for p in paras) or 1
    return sum(len(p) for p in paras[i:]) / total <= float(limit)


def _short_enough(text: str, rule: Rule) -> bool:
    limit = rule.options.get("next_max_words")
    return limit is None or len(text.split()) <= int(limit)


def _confirmed(rule: Rule, own: Sequence[Rule | None], i: int) -> Rule:
    """A weak section header ("Comments") followed by a second, independent sign of the same
    section (a comment author line, a reply form) is as sure as an explicit one: the guard
    must not keep an open thread whose comments outweigh the post."""
    if rule.guard_exempt:
        return rule
    later = (r for r in own[i + 1:] if r is not None and r.id != rule.id)
    if any(r.kind == rule.kind and r.action == "remove_rest" for r in later):
        note = f"{rule.reason} (confirmed by a later {rule.kind} line)"
        return replace(rule, guard_exempt=True, reason=note)
    return rule


@lru_cache(maxsize=4096)  # one Rule per (site, count): most template paragraphs share a few
def _template_rule(site: str, n_docs: int) -> Rule:
    return Rule(id=templates.RULE_ID, kind=templates.KIND, match="heuristic",
                reason=f"paragraph recurs in {n_docs} documents of site {site}")


def _mark_templates(marks: list[Rule | None], site: str | None, index: TemplateIndex | None,
                    shared: Sequence[int] | None) -> None:
    """`shared`: the paragraphs' `TemplateIndex.documents_sharing_keys` (None: no site of the
    batch has templates)."""
    if index is None or site not in index.sites or shared is None:
        return
    for i, n in enumerate(shared):
        if n and marks[i] is None:
            marks[i] = _template_rule(site, n)


def line_matcher(rules: RuleSet, hostname: str | None, fmt: str | None,
                 cache: dict[tuple[Any, ...], LineMatcher] | None = None) -> LineMatcher:
    """The line rules for this host and format; `cache` shares one matcher between the documents
    of a batch that get the same rules (nearly all of them: few rules name a host). It is keyed
    by host and format first: hashing the rules themselves for every document cost more."""
    if cache is None:
        return LineMatcher(tuple(r for r in rules.line_rules if r.applies_to(hostname, fmt)))
    found = cache.get(("doc", hostname, fmt))
    if found is None:
        applicable = tuple(r for r in rules.line_rules if r.applies_to(hostname, fmt))
        ids = ("rules", *(r.id for r in applicable))
        found = cache.get(ids) or LineMatcher(applicable)
        cache[ids] = cache[("doc", hostname, fmt)] = found
    return found


def mark_document(paras: Sequence[str], guard_fraction: float, site: str | None,
                  index: TemplateIndex | None, view: heuristics.DocView, shared: Sequence[int] | None,
                  own: list[Rule | None], structural: Sequence[Rule]) -> DocVerdict:
    """Line rules (first match wins), site templates, structural heuristics, then the guard, on
    what the batch computed for this document: `own` (the line rules' marks), `shared` (see
    `_mark_templates`), `structural` (the structural rules for its host and format)."""
    marks = _apply_actions(own, paras)
    _mark_templates(marks, site, index, shared)
    for rule in structural:
        for j in heuristics.REGISTRY[rule.heuristic](view, marks, rule.options):
            marks[j] = marks[j] or rule
    if len(marks) != len(paras):
        raise ValueError(f"{len(marks)} marks for {len(paras)} paragraphs")
    if marks.count(None) == len(marks):  # most documents: nothing to weigh
        return DocVerdict(marks, guard_fraction < 0.0, 0.0)
    lengths = list(map(len, paras))
    total = sum(lengths) or 1
    removed = sum(compress(lengths, [m is not None for m in marks])) / total
    doubtful = sum(compress(lengths, [m is not None and not m.guard_exempt for m in marks])) / total
    return DocVerdict(marks, doubtful > guard_fraction, removed)


def structural_rules(rules: RuleSet, hostname: str | None, fmt: str | None,
                     cache: dict[tuple[str | None, str | None], tuple[Rule, ...]]) -> tuple[Rule, ...]:
    """The structural rules for this host and format, in file order; `cache` shares them between
    the documents of a batch."""
    found = cache.get((hostname, fmt))
    if found is None:
        found = cache[(hostname, fmt)] = tuple(r for r in rules.structural_rules
                                               if r.applies_to(hostname, fmt))
    return found


def sites_of(documents: pa.Table) -> dict[str, str]:
    """doc_id -> site (host, else source folder) from a documents table."""
    cols = (documents.column(name).to_pylist() for name in ("doc_id", "hostname", "source_path"))
    return {doc_id: templates.site_of(host, path) for doc_id, host, path in zip(*cols, strict=True)}


# The learn pass's key of each paragraph (null: none), which the mark pass may be given as a column.
KEYS = pa.schema([("template_key", pa.uint64())])


def learn_templates(paragraphs: pa.Table, sites: dict[str, str],
                    params: StripParams) -> tuple[pa.Table, pa.Table]:
    """One batch's share of the corpus pass: distinct documents per (site, short paragraph), as a
    `templates.COUNTS` table (`templates.add_counts` adds batches up); and each row's key (`KEYS`)."""
    keys, valid = templates.key_array(paragraphs.column("text"), params.site_template_max_words)
    counts = templates.key_counts(paragraphs.column("doc_id"), keys, valid, sites)
    return counts, pa.Table.from_arrays([pa.array(keys, pa.uint64(), mask=~valid)], schema=KEYS)


def batch_gates(paragraphs: pa.Table, documents: pa.Table, rules: RuleSet,
                matchers: dict[tuple[Any, ...], LineMatcher]) -> dict[LineMatcher, np.ndarray]:
    """What `run` computes first for a batch, given ahead: the line matcher of each host and
    format of its documents (put in `matchers`, the cache `run` is then given) and the matcher's
    candidates over the batch's rows (`LineMatcher.candidates`)."""
    ids = pc.unique(paragraphs.column("doc_id"))
    docs = documents.filter(pc.is_in(documents.column("doc_id"), value_set=ids))
    where = zip(docs.column("hostname").to_pylist(), docs.column("source_format").to_pylist(), strict=True)
    known = dict(zip(docs.column("doc_id").to_pylist(), where, strict=True))
    pairs = sorted({known.get(doc_id, (None, None)) for doc_id in ids.to_pylist()}, key=repr)
    found = dict.fromkeys(line_matcher(rules, host, fmt, matchers) for host, fmt in pairs)
    return {matcher: matcher.candidates(paragraphs.column("text")) for matcher in found}


@dataclass
class _BatchText:
    """What strip computes once per batch rather than per paragraph: per line matcher the
    paragraphs any of its rules may match (`LineMatcher.candidates`, in Arrow), and the
    site-template keys."""

    texts: pa.ChunkedArray
    shared: np.ndarray | None  # per row: documents of its site sharing it, if a template
    given: dict[LineMatcher, np.ndarray]  # `batch_gates`, when computed ahead
    candidates: dict[LineMatcher, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, paragraphs: pa.Table, index: TemplateIndex | None, sites: dict[str, str],
           given: dict[LineMatcher, np.ndarray] | None = None) -> _BatchText:
        shared = None
        # Template keys only where a site of the batch has templates at all.
        if index is not None and index.sites.intersection(sites.values()):
            if "template_key" in paragraphs.column_names:  # kept from the learn pass
                stored = paragraphs.column("template_key")
                keys = pc.fill_null(stored, 0).to_numpy()
                valid = pc.is_valid(stored).to_numpy(zero_copy_only=False)
            else:
                keys, valid = templates.key_array(paragraphs.column("text"), index.max_words)
            shared = index.documents_sharing_keys(paragraphs.column("doc_id"), sites, keys, valid)
        return cls(paragraphs.column("text"), shared, given or {})

    def shared_of(self, rows: np.ndarray) -> list[int] | None:
        return None if self.shared is None else self.shared[rows].tolist()

    def marks(self, matcher: LineMatcher, texts: list[str], order: np.ndarray,
              start: int, end: int) -> list[Rule | None]:
        """The line rules' marks of one document: rows `order[start:end]` (`order`: the batch's
        rows in the order strip visits them, the same at every call)."""
        if matcher not in self.candidates:
            # The candidates' places in visiting order, once: a document's are then found by
            # bisection (a numpy slice and flatnonzero per document cost 0.02 s of 4,000).
            flags = self.given.get(matcher)
            if flags is None:
                flags = matcher.candidates(self.texts)
            self.candidates[matcher] = np.flatnonzero(flags[order]).tolist()
        found = self.candidates[matcher]
        here = found[bisect_left(found, start):bisect_left(found, end)]
        return matcher.marks_at(texts, [i - start for i in here])


def run(paragraphs: pa.Table, documents: pa.Table, rules: RuleSet, params: StripParams,
        index: TemplateIndex | None = None,
        matchers: dict[tuple[Any, ...], LineMatcher] | None = None,
        gates: dict[LineMatcher, np.ndarray] | None = None) -> StageResult:
    """Mark chrome in every document; rows stay in place, only kept rows are looked at.
    `matchers` is a cache of line matchers that a caller may keep across calls (the same rules
    give the same matcher: building one costs tens of milliseconds, a slice of 32 documents not
    much more); `gates`: `batch_gates` of this batch, computed ahead with that cache."""
    ids = documents.column("doc_id").to_pylist()
    hosts = dict(zip(ids, documents.column("hostname").to_pylist(), strict=True))
    formats = dict(zip(ids, documents.column("source_format").to_pylist(), strict=True))
    titles = dict(zip(ids, documents.column("title").to_pylist(), strict=True))
    sites = sites_of(documents)
    rows = BatchRows(paragraphs)
    batch = _BatchText.of(paragraphs, index, sites, gates)
    shared = batch.shared_of(rows.rows)  # in `rows` order
    guarded: list[str] = []
    matchers = {} if matchers is None else matchers
    structural: dict[tuple[str | None, str | None], tuple[Rule, ...]] = {}
    guard = params.guard_max_removed_fraction
    for doc_id, start, end in rows.docs:
        texts = rows.texts[start:end]
        host, fmt = hosts.get(doc_id), formats.get(doc_id)
        matcher = line_matcher(rules, host, fmt, matchers)
        verdict = mark_document(texts, guard, sites.get(doc_id), index,
                                rows.view(start, end, titles.get(doc_id)),
                                None if shared is None else shared[start:end],
                                batch.marks(matcher, texts, rows.rows, start, end),
                                structural_rules(rules, host, fmt, structural))
        rows.update(start, verdict)
        if verdict.guarded:
            guarded.append(doc_id)
    out = rows.table(guard)
    return StageResult({"paragraphs": out}, _removed_here(out), counters(out, guarded))


def _removed_here(table: pa.Table) -> pa.Table:
    mask = pc.and_(pc.equal(table.column("stage"), STAGE),
                   pc.equal(table.column("status"), schema.REMOVED))
    return table.filter(pc.fill_null(mask, False))
