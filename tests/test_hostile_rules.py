"""Rules that could hang a run: refused at load time, and every shipped pattern probed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import timelimit
from pipeline.rules import RuleError, load_rules
from pipeline.rules.safety import adversarial_inputs, search_all, static_problems

# A linear pattern searches all its adversarial lines (~100 lines of 50,000 characters) in well
# under a second; a quadratic one takes many seconds (contact_line_v1 took 10 s before its fix).
PROBE_SIZE, PROBE_SECONDS = 50_000, 4.0


@pytest.mark.parametrize("pattern", [r"(\w+\s?)+$", r"(a+)+b", r"^(x+x+)+y", r"(?:x*)*y",
                                     r"(ab|ac|\w\w)+$", r"(?:\d+|\w)+!"])
def test_rule_with_a_catastrophic_pattern_is_refused_with_its_id(tmp_path: Path, pattern: str) -> None:
    (tmp_path / "bad.yaml").write_text(
        f"kind: x\nrules:\n  - id: hang_v1\n    reason: r\n    pattern: '{pattern}'\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"bad.yaml rule hang_v1: pattern can backtrack catastrophically"):
        load_rules(tmp_path)


@pytest.mark.parametrize("pattern", [r"(?:foo|bar)+", r"(\S+\s*){1,6}$", r"[ab]+c", r"(?:\s|,)+x",
                                     r"^(read more|related)\s*[:|]\s*\S", r"(a|b)*c", r"(?>a+)+b"])
def test_safe_shapes_pass_the_static_check(pattern: str) -> None:
    assert static_problems(pattern) == []


def test_what_the_static_check_refuses_really_hangs() -> None:
    with timelimit.TimeLimited(search_all, 1.0) as probe, pytest.raises(timelimit.TimeLimitExceeded):
        probe(r"(a+)+b", 0, ["a" * 40])


def test_the_probe_catches_a_polynomial_pattern_the_static_check_lets_through() -> None:
    pattern = r"\s*\s*\s*x"
    assert static_problems(pattern) == []
    with timelimit.TimeLimited(search_all, 1.0) as probe, pytest.raises(timelimit.TimeLimitExceeded):
        probe(pattern, 0, adversarial_inputs(pattern, PROBE_SIZE))


def test_every_shipped_pattern_survives_adversarial_lines() -> None:
    slow = []
    with timelimit.TimeLimited(search_all, PROBE_SECONDS) as probe:
        for rule in load_rules().line_rules:
            if rule.compiled is None:
                continue
            lines = adversarial_inputs(rule.pattern, PROBE_SIZE, tuple(rule.examples.get("match", [])))
            try:
                probe(rule.pattern, rule.compiled.flags, lines)
            except timelimit.TimeLimitExceeded:
                slow.append(rule.id)
    assert slow == [], f"patterns over {PROBE_SECONDS} s on {PROBE_SIZE:,}-character lines: {slow}"
