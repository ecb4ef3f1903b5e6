"""The `pipeline` command ends a run without the interpreter's teardown (`cli.exit_now`): its log
and outputs must be complete all the same, and no process of the run may outlive it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import RAW, ROOT, env_tmpdir
from test_workers import pool_corpus

from pipeline import cli


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False, env=env)


def test_a_run_ends_with_its_log_flushed_and_its_outputs_in_place(tmp_path: Path) -> None:
    res = _cli("run", str(RAW), "--out", str(tmp_path / "out"), "--workers", "1")
    assert res.returncode == 0, res.stderr
    # The table of stage times is the last thing logged, just before the process ends.
    assert "time per stage" in res.stderr
    assert res.stderr.rstrip().endswith("|")
    assert (tmp_path / "out" / "articles.parquet").is_file()


def test_exit_now_flushes_what_is_still_buffered() -> None:
    # Through pipes, stdout is block-buffered and stderr holds a line until its end: both would
    # be lost by os._exit alone. (A run's log lines are flushed by their handler one by one.)
    code = ("import sys; from pipeline.cli import exit_now; "
            "sys.stdout.write('out, no newline'); sys.stderr.write('err, no newline'); exit_now(3)")
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=False, env=buffered)
    assert (res.returncode, res.stdout, res.stderr) == (3, "out, no newline", "err, no newline")


def test_a_user_error_still_exits_2_with_its_message(tmp_path: Path) -> None:
    res = _cli("run", str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert res.returncode == 2
    assert "does not exist" in res.stderr


def test_which_commands_skip_the_teardown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []
    monkeypatch.setattr(cli, "_dispatch", lambda args: calls.append(args.command))
    assert cli._main(["run", str(tmp_path), "--out", str(tmp_path / "o")]) == (0, True)
    assert cli._main(["dedup", "--out", str(tmp_path / "o")]) == (0, True)
    # Ray shuts itself down at exit; audit commands write stdout, which may be a closed pipe.
    assert cli._main(["run", str(tmp_path), "--out", str(tmp_path / "o"), "--engine", "ray"]) == (0, False)
    assert cli._main(["show", "--out", str(tmp_path / "o"), "x"])[1] is False
    assert cli.main(["export", "--out", str(tmp_path / "o")]) == 0
    assert calls == ["run", "dedup", "run", "show", "export"]


def _marked(mark: str) -> list[int]:
    """Processes whose environment holds `mark` (children inherit it: the fork server, workers)."""
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in env.read_bytes():
                found.append(int(env.parent.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="needs Linux /proc")
def test_no_process_or_temporary_folder_of_a_two_worker_run_outlives_it(tmp_path: Path) -> None:
    raw, params = pool_corpus(tmp_path)
    mark = f"PIPELINE_EXIT_TEST={uuid.uuid4().hex}"
    # The fork server's socket lives in a folder multiprocessing makes under TMPDIR and removes
    # at exit; os._exit alone skipped that, leaving one /tmp/pymp-* per run.
    tmp = tmp_path / "tmp"
    env = {**env_tmpdir(tmp), mark.split("=")[0]: mark.split("=")[1]}
    res = _cli("-q", "run", str(raw), "--out", str(tmp_path / "out"), "--params", str(params),
               "--workers", "2", env=env)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "paragraphs.parquet").is_file()
    deadline = time.monotonic() + 20  # the fork server notices its pipe closed, then exits
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _marked(mark) == []
    assert sorted(p.name for p in tmp.iterdir()) == []
