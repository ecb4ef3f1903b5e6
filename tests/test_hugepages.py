"""Transparent huge pages: off for the pipeline's processes unless `--huge-pages` keeps them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RAW

from pipeline import cli, hugepages, runner


def _thp_status() -> str | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":")[1].strip() for line in lines if line.startswith("THP_enabled:")), None)


@pytest.mark.skipif(_thp_status() is None, reason="the kernel does not report THP_enabled")
def test_disable_turns_them_off_for_the_process_and_its_children() -> None:
    code = ("import subprocess, sys; from pipeline import hugepages; print(hugepages.disable()); "
            "print(open('/proc/self/status').read().split('THP_enabled:')[1].split()[0]); "
            "print(subprocess.run([sys.executable, '-c', \"print(open('/proc/self/status').read()"
            ".split('THP_enabled:')[1].split()[0])\"], capture_output=True, text=True).stdout.strip())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "0", "0"]  # this process, and a child it starts


@pytest.mark.parametrize(("extra", "calls"), [([], 1), (["--huge-pages"], 0)])
def test_stage_commands_turn_them_off_unless_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   extra: list[str], calls: int) -> None:
    called: list[bool] = []
    monkeypatch.setattr(hugepages, "disable", lambda: called.append(True) or True)
    monkeypatch.setattr(runner, "run_all", lambda *args: {})
    assert cli.main(["-q", "run", str(RAW), "--out", str(tmp_path / "out"), *extra]) == 0
    assert len(called) == calls
