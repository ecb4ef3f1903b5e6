"""Strip: mark paragraphs that are site chrome, by rule, leaving every row in place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema
from pipeline.params import StripParams
from pipeline.result import StageResult
from pipeline.rules import Rule, RuleSet, heuristics, templates
from pipeline.rules.lines import LineMatcher
from pipeline.rules.templates import TemplateIndex

STAGE = "strip"


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


def _mark_templates(paras: Sequence[str], marks: list[Rule | None], site: str | None,
                    index: TemplateIndex | None, shared: Sequence[int] | None = None) -> None:
    """`shared`: the paragraphs' `TemplateIndex.documents_sharing_keys`, when the caller computed
    them for a batch."""
    if index is None or site not in index.sites:
        return
    if shared is None:
        shared = [index.documents_sharing(site, text) for text in paras]
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


def mark_document(paras: Sequence[str], rules: RuleSet, hostname: str | None,
                  guard_fraction: float, site: str | None = None,
                  index: TemplateIndex | None = None,
                  view: heuristics.DocView | None = None, fmt: str | None = None,
                  matchers: dict[tuple[Any, ...], LineMatcher] | None = None,
                  shared: Sequence[int] | None = None,
                  own: list[Rule | None] | None = None) -> DocVerdict:
    """Line rules (first match wins), site templates, structural heuristics, then the guard.
    `shared` (see `_mark_templates`) and `own` (the line rules' marks) when the caller computed
    them for a batch."""
    view = view or heuristics.DocView(paras)
    if own is None:
        own = line_matcher(rules, hostname, fmt, matchers).marks(paras)
    marks = _apply_actions(own, paras)
    _mark_templates(paras, marks, site, index, shared)
    for rule in rules.structural_rules:
        if rule.applies_to(hostname, fmt):
            for j in heuristics.REGISTRY[rule.heuristic](view, marks, rule.options):
                marks[j] = marks[j] or rule
    total = sum(len(p) for p in paras) or 1
    removed = sum(len(p) for p, m in zip(paras, marks, strict=True) if m is not None) / total
    doubtful = sum(len(p) for p, m in zip(paras, marks, strict=True)
                   if m is not None and not m.guard_exempt) / total
    return DocVerdict(marks, doubtful > guard_fraction, removed)


class _Rows:
    """The columns strip reads, as lists (not one dict per row: converting every column of a
    batch both ways cost more than marking it); only status, stage, rule_id and reason change."""

    READ = ("doc_id", "para_idx", "text", "status", "stage", "rule_id", "reason", "tag", "link_density")
    WRITTEN = ("status", "stage", "rule_id", "reason")

    def __init__(self, paragraphs: pa.Table) -> None:
        self.col = {name: paragraphs.column(name).to_pylist() for name in self.READ}

    def documents(self) -> dict[str, list[int]]:
        """Row numbers of each document's kept paragraphs, in paragraph order."""
        by_doc: dict[str, list[int]] = {}
        for i, (doc_id, status) in enumerate(zip(self.col["doc_id"], self.col["status"], strict=True)):
            if status == schema.KEPT:
                by_doc.setdefault(doc_id, []).append(i)
        for at in by_doc.values():
            at.sort(key=self.col["para_idx"].__getitem__)
        return by_doc

    def take(self, name: str, at: list[int]) -> list[Any]:
        column = self.col[name]
        return [column[i] for i in at]

    def update(self, at: list[int], verdict: DocVerdict, guard_fraction: float) -> None:
        status, stage, rule_id, reason = (self.col[name] for name in self.WRITTEN)
        for i, rule in zip(at, verdict.marks, strict=True):
            if rule is None:
                continue
            stage[i], rule_id[i] = STAGE, rule.id
            if verdict.guarded and not rule.guard_exempt:
                reason[i] = (f"kept by guard: rules would remove {verdict.removed_fraction:.0%} of the "
                             f"document (> {guard_fraction:.0%}); flagged as {rule.kind}: {rule.reason}")
            else:
                status[i], reason[i] = schema.REMOVED, f"{rule.kind}: {rule.reason}"

    def table(self, paragraphs: pa.Table) -> pa.Table:
        arrays = [pa.array(self.col[f.name], f.type) if f.name in self.WRITTEN else paragraphs.column(f.name)
                  for f in schema.PARAGRAPHS]
        return pa.Table.from_arrays(arrays, schema=schema.PARAGRAPHS)

    def counters(self, guarded: list[str]) -> dict[str, Any]:
        status, stage, rule_id = self.col["status"], self.col["stage"], self.col["rule_id"]
        here = [i for i, s in enumerate(stage) if s == STAGE]
        removed = [i for i in here if status[i] == schema.REMOVED]
        kept_in = sum(1 for st, sg in zip(status, stage, strict=True) if st == schema.KEPT or sg == STAGE)
        return {"paragraphs_in": kept_in, "removed": len(removed), "kept": kept_in - len(removed),
                "removed_by_rule": dict(sorted(Counter(rule_id[i] for i in removed).items())),
                "guarded_documents": len(guarded),
                "guarded_paragraphs": len(here) - len(removed)}


def sites_of(documents: pa.Table) -> dict[str, str]:
    """doc_id -> site (host, else source folder) from a documents table."""
    cols = documents.select(["doc_id", "hostname", "source_path"]).to_pylist()
    return {d["doc_id"]: templates.site_of(d["hostname"], d["source_path"]) for d in cols}


# The learn pass's key of each paragraph (null: none), which the mark pass may be given as a column.
KEYS = pa.schema([("template_key", pa.uint64())])


def learn_templates(paragraphs: pa.Table, sites: dict[str, str],
                    params: StripParams) -> tuple[pa.Table, pa.Table]:
    """One batch's share of the corpus pass: distinct documents per (site, short paragraph), as a
    `templates.COUNTS` table (`templates.add_counts` adds batches up); and each row's key (`KEYS`)."""
    keys, valid = templates.key_array(paragraphs.column("text"), params.site_template_max_words)
    counts = templates.key_counts(paragraphs.column("doc_id"), keys, valid, sites)
    return counts, pa.Table.from_arrays([pa.array(keys, pa.uint64(), mask=~valid)], schema=KEYS)


@dataclass
class _BatchText:
    """What strip computes once per batch rather than per paragraph: per line matcher the
    paragraphs any of its rules may match (`LineMatcher.candidates`, in Arrow), and the
    site-template keys."""

    texts: pa.ChunkedArray
    shared: list[int] | None  # per row: documents of its site sharing it, if a template
    candidates: dict[LineMatcher, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, paragraphs: pa.Table, index: TemplateIndex | None, sites: dict[str, str],
           doc_ids: list[str]) -> _BatchText:
        shared = None
        # Template keys only where a site of the batch has templates at all.
        if index is not None and index.sites.intersection(sites.values()):
            if "template_key" in paragraphs.column_names:  # kept from the learn pass
                stored = paragraphs.column("template_key")
                keys = pc.fill_null(stored, 0).to_numpy()
                valid = pc.is_valid(stored).to_numpy(zero_copy_only=False)
            else:
                keys, valid = templates.key_array(paragraphs.column("text"), index.max_words)
            row_sites = [sites.get(d) for d in doc_ids]
            shared = index.documents_sharing_keys(row_sites, keys, valid).tolist()
        return cls(paragraphs.column("text"), shared)

    def shared_at(self, at: list[int]) -> list[int] | None:
        return None if self.shared is None else [self.shared[i] for i in at]

    def marks(self, matcher: LineMatcher, texts: list[str], at: list[int]) -> list[Rule | None]:
        if matcher not in self.candidates:
            self.candidates[matcher] = matcher.candidates(self.texts)
        return matcher.marks(texts, self.candidates[matcher][at])


def run(paragraphs: pa.Table, documents: pa.Table, rules: RuleSet, params: StripParams,
        index: TemplateIndex | None = None,
        matchers: dict[tuple[Any, ...], LineMatcher] | None = None) -> StageResult:
    """Mark chrome in every document; rows stay in place, only kept rows are looked at.
    `matchers` is a cache of line matchers that a caller may keep across calls (the same rules
    give the same matcher: building one costs tens of milliseconds, a slice of 32 documents not
    much more)."""
    ids = documents.column("doc_id").to_pylist()
    hosts = dict(zip(ids, documents.column("hostname").to_pylist(), strict=True))
    formats = dict(zip(ids, documents.column("source_format").to_pylist(), strict=True))
    titles = dict(zip(ids, documents.column("title").to_pylist(), strict=True))
    sites = sites_of(documents)
    rows = _Rows(paragraphs)
    batch = _BatchText.of(paragraphs, index, sites, rows.col["doc_id"])
    guarded: list[str] = []
    matchers = {} if matchers is None else matchers
    for doc_id, at in rows.documents().items():
        texts = rows.take("text", at)
        view = heuristics.DocView(texts, rows.take("tag", at), rows.take("link_density", at),
                                  titles.get(doc_id))
        matcher = line_matcher(rules, hosts.get(doc_id), formats.get(doc_id), matchers)
        verdict = mark_document(texts, rules, hosts.get(doc_id), params.guard_max_removed_fraction,
                                sites.get(doc_id), index, view, formats.get(doc_id), matchers,
                                batch.shared_at(at), batch.marks(matcher, texts, at))
        rows.update(at, verdict, params.guard_max_removed_fraction)
        if verdict.guarded:
            guarded.append(doc_id)
    out = rows.table(paragraphs)
    return StageResult({"paragraphs": out}, _removed_here(out), rows.counters(guarded))


def _removed_here(table: pa.Table) -> pa.Table:
    mask = pc.and_(pc.equal(table.column("stage"), STAGE),
                   pc.equal(table.column("status"), schema.REMOVED))
    return table.filter(pc.fill_null(mask, False))
