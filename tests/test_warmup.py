"""Extraction's lazy caches are filled once, in the pool's fork server (`pipeline.warmup`), and
the server `pipeline run` starts runs without transparent huge pages.

The caches are named by what trafilatura and tld keep them in (`JT_STOPLIST`, `tld_names`): if a
new version moves them, these tests fail and say which one, rather than the warm-up silently
warming nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, env_importing
from test_workers import pool_corpus

CACHES = textwrap.dedent("""
    import json, trafilatura.external, tld.utils
    def caches():
        return {"justext_stoplist": trafilatura.external.JT_STOPLIST is not None,
                "tld_suffixes": bool(tld.utils.tld_names)}
    def caches_of(_):  # for a pool: one argument
        return caches()
""")


def _python(code: str, tmp_path: Path) -> str:
    """Run `code` in a fresh interpreter that can import the module `probe` (CACHES)."""
    (tmp_path / "probe.py").write_text(CACHES, encoding="utf-8")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env_importing(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


def test_warm_up_fills_the_caches_and_importing_it_elsewhere_does_not(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import json, probe
        before = probe.caches()
        import pipeline.warmup
        imported = probe.caches()
        pipeline.warmup.warm_up()
        print(json.dumps([before, imported, probe.caches()]))
    """)
    before, imported, after = json.loads(_python(code, tmp_path))
    assert before == imported == {"justext_stoplist": False, "tld_suffixes": False}
    assert after == {"justext_stoplist": True, "tld_suffixes": True}


def test_pool_workers_start_with_the_caches_filled(tmp_path: Path) -> None:
    """The workers are asked before they extract anything: what they have came from the fork server."""
    code = textwrap.dedent("""
        import json, probe
        from pipeline import pool
        if __name__ == "__main__":
            print(json.dumps(list(pool.ordered_map(probe.caches_of, range(4), 2))))
    """)
    answers = json.loads(_python(code, tmp_path))
    assert answers == [{"justext_stoplist": True, "tld_suffixes": True}] * 4


def test_a_failed_warm_up_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from pipeline import warmup

    def broken() -> None:
        raise OSError("stoplists unreadable")

    monkeypatch.setattr(warmup, "warm_up", broken)
    warmup._in_server()  # an exception here would stop the fork server
    assert "extraction warm-up failed (OSError: stoplists unreadable)" in caplog.text


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_pipeline_run_starts_its_fork_server_without_huge_pages(tmp_path: Path) -> None:
    """The server, and every worker forked from it, inherits the setting of the process that
    starts it. In an experiment that started it before `pipeline.hugepages` turned them off, the
    workers used 0.5 CPU-seconds more on the 804 development pages."""
    raw, params = pool_corpus(tmp_path)
    code = textwrap.dedent(f"""
        import json
        from pipeline import cli, pool
        seen = []
        start = pool.start_server
        def thp():  # None where the kernel does not say
            lines = open("/proc/self/status").read().splitlines()
            return next((l.split()[1] for l in lines if l.startswith("THP_enabled:")), None)
        def recording():
            seen.append(thp())
            start()
        pool.start_server = recording
        code = cli.main(["-q", "run", {str(raw)!r}, "--out", {str(tmp_path / "out")!r},
                         "--params", {str(params)!r}, "--workers", "2"])
        print(json.dumps([code, seen]))
    """)
    code, seen = json.loads(_python(code, tmp_path))
    assert code == 0 and len(seen) == 1 and seen[0] in ("0", None)
