"""Chrome rules as data: YAML files grouped by kind of chrome, loaded into frozen Rule objects."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.rules import heuristics, safety

RULES_DIR = Path(__file__).parent
MATCHERS = {"regex", "exact", "heuristic"}
ACTIONS = {"remove", "remove_rest", "remove_with_following_teasers", "remove_with_next"}
_ID = re.compile(r"^[a-z0-9_]+_v\d+$")
# libyaml's safe loader where PyYAML was built with it: the same documents, parsed several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RuleError(ValueError):
    """A rule file is malformed; the message names the file and the rule id."""


def exact_key(text: str) -> str:
    """What `exact` rules compare: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    reason: str
    match: str
    action: str = "remove"
    pattern: str | None = None
    exact: tuple[str, ...] = ()
    heuristic: str | None = None
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    max_words: int | None = None
    # Only among the last N paragraphs: boilerplate that closes a page reads like prose elsewhere.
    max_from_end: int | None = None
    hosts: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()  # source formats the rule applies to; empty = all
    # A rule sure enough of itself that the guard does not count what it removes (an explicit
    # "34 responses to ..." header: an open thread can be mostly comments).
    guard_exempt: bool = False
    examples: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    source: str = ""
    compiled: re.Pattern[str] | None = field(default=None, hash=False, compare=False)

    def applies_to(self, hostname: str | None, fmt: str | None = None) -> bool:
        if self.formats and fmt not in self.formats:
            return False
        if not self.hosts:
            return True
        host = (hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self.hosts)

    def in_position(self, index: int, count: int) -> bool:
        return self.max_from_end is None or count - index <= self.max_from_end

    def matches(self, text: str) -> bool:
        """Line matchers only; structural heuristics see the whole document instead. One rule on
        one line: strip tries them all at once through `lines.LineMatcher`."""
        if self.max_words is not None and len(text.split()) > self.max_words:
            return False
        if self.match == "exact":
            return exact_key(text) in self.exact
        if self.compiled is not None:
            return self.compiled.search(text) is not None
        return False


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    digest: str

    @property
    def line_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.match != "heuristic")

    @property
    def structural_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.match == "heuristic")

    def by_id(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise RuleError(f"{where}: {message}")


def _build_rule(raw: dict[str, Any], kind: str, source: str) -> Rule:
    rid = raw.get("id", "?")
    where = f"{source} rule {rid}"
    _require(isinstance(rid, str) and bool(_ID.match(rid)), where,
             "id must be lower_snake_case ending in a version such as _v1")
    match = raw.get("match", "regex")
    _require(match in MATCHERS, where, f"match must be one of {sorted(MATCHERS)}")
    action = raw.get("action", "remove")
    _require(action in ACTIONS, where, f"action must be one of {sorted(ACTIONS)}")
    _require(bool(raw.get("reason")), where, "a reason is required")
    compiled = None
    if match == "regex":
        try:
            flags = 0 if raw.get("case_sensitive") else re.IGNORECASE
            compiled = re.compile(raw["pattern"], flags)
        except (KeyError, TypeError, re.error) as exc:
            raise RuleError(f"{where}: bad pattern ({exc})") from exc
        problems = safety.static_problems(compiled.pattern, compiled.flags)
        _require(not problems, where, f"pattern can backtrack catastrophically: {'; '.join(problems)}")
    if match == "exact":
        _require(bool(raw.get("exact")), where, "exact rules need a list under 'exact'")
    if match == "heuristic":
        _require(raw.get("heuristic") in heuristics.REGISTRY, where,
                 f"unknown heuristic {raw.get('heuristic')!r}; known: {sorted(heuristics.REGISTRY)}")
    known = {"id", "reason", "match", "action", "pattern", "exact", "heuristic", "options",
             "max_words", "max_from_end", "hosts", "formats", "examples", "case_sensitive", "guard_exempt"}
    _require(not set(raw) - known, where, f"unknown keys {sorted(set(raw) - known)}")
    _require(set(raw.get("formats", [])) <= {"text", "html"}, where, "formats must be text and/or html")
    for key in ("max_words", "max_from_end"):
        value = raw.get(key)
        _require(value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0),
                 where, f"{key} must be a positive integer")
    return Rule(id=rid, kind=kind, reason=raw["reason"], match=match, action=action,
                pattern=raw.get("pattern"),
                exact=tuple(exact_key(s) for s in raw.get("exact", [])),
                heuristic=raw.get("heuristic"), options=dict(raw.get("options") or {}),
                max_words=raw.get("max_words"), max_from_end=raw.get("max_from_end"),
                hosts=tuple(h.lower() for h in raw.get("hosts", [])),
                formats=tuple(raw.get("formats", [])), guard_exempt=bool(raw.get("guard_exempt", False)),
                examples=dict(raw.get("examples") or {}), source=source, compiled=compiled)


def load_rules(directory: Path = RULES_DIR, disabled: tuple[str, ...] = ()) -> RuleSet:
    """Every `*.yaml` in `directory`, sorted by file name, rules in file order (first match wins)."""
    rules: list[Rule] = []
    for path, text in _rule_files(directory):
        try:
            doc = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            raise RuleError(f"{path.name}: not valid YAML ({exc})") from exc
        _require(isinstance(doc, dict) and isinstance(doc.get("kind"), str)
                 and isinstance(doc.get("rules"), list), path.name, "needs 'kind' and a 'rules' list")
        rules.extend(_build_rule(r, doc["kind"], path.name) for r in doc["rules"])
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    _require(not dupes, str(directory), f"duplicate rule ids {dupes}")
    unknown = sorted(set(disabled) - set(ids))
    _require(not unknown, "strip.disabled_rules", f"unknown rule ids {unknown}")
    kept = tuple(r for r in rules if r.id not in set(disabled))
    return RuleSet(kept, rules_digest(directory))


def _rule_files(directory: Path) -> list[tuple[Path, str]]:
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise RuleError(f"no rule files (*.yaml) in {directory}")
    return [(path, path.read_text(encoding="utf-8")) for path in files]


def rules_digest(directory: Path = RULES_DIR) -> str:
    """`load_rules(directory).digest` without parsing and checking every pattern (export only
    records which rule files a run used)."""
    digest = hashlib.sha256()
    for path, text in _rule_files(directory):
        digest.update(path.name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:16]
