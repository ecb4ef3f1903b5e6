"""A run stopped by SIGTERM or Ctrl-C (`pipeline.stopping`): one line saying so, no traceback, no
temporary file or folder left, no worker left running, the finished stages' outputs kept, and
the process killed by the signal it got."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from test_workers import _alive, pool_corpus

from pipeline import cli, pool, stopping

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")
EXTRACT_WRITING = "stages/extract/.paragraphs.parquet.*.tmp"


def _stop_during_extract(tmp_path: Path, signum: int, workers: int, group: bool) -> tuple[int, str, Path]:
    """Run `pipeline run`, send `signum` once extract writes (to the run's process group if
    `group`, as a terminal's Ctrl-C does); (exit status, stderr, temporary folder)."""
    raw, params = pool_corpus(tmp_path)
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-q", "run", str(raw), "--out", str(out),
                             "--params", str(params), "--workers", str(workers)],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "TMPDIR": str(tmp)})
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not (
            any(out.glob(EXTRACT_WRITING)) and _children(proc.pid)):  # the extraction process is up
        time.sleep(0.002)
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err, tmp


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _assert_stopped_cleanly(status: int, err: str, tmp: Path, out: Path, signum: int) -> None:
    name = signal.Signals(signum).name
    assert status == -signum, err  # killed by the signal, as a shell expects of a stopped command
    # One line says so; nothing else but warnings (no traceback, no "Process ForkProcess-1:").
    said = [line for line in err.splitlines() if line.strip() and not line.startswith(("WARNING", " "))]
    assert len(said) == 1 and said[0].startswith(f"ERROR pipeline: stopped by {name}: "), err
    assert sorted(p.name for p in tmp.iterdir()) == []  # multiprocessing's pymp-* folder too
    assert [p.name for p in out.rglob("*.tmp")] == []
    assert (out / "stages" / "ingest" / "documents.parquet").is_file()  # the finished stage
    assert not (out / "stages" / "extract").exists() or not any((out / "stages" / "extract").iterdir())


def test_sigterm_stops_a_two_worker_run_cleanly(tmp_path: Path) -> None:
    status, err, tmp = _stop_during_extract(tmp_path, signal.SIGTERM, workers=2, group=False)
    _assert_stopped_cleanly(status, err, tmp, tmp_path / "out", signal.SIGTERM)


def test_ctrl_c_to_the_whole_group_stops_a_one_worker_run_cleanly(tmp_path: Path) -> None:
    # The extraction process gets the SIGINT too: it must leave stopping to the run.
    status, err, tmp = _stop_during_extract(tmp_path, signal.SIGINT, workers=1, group=True)
    _assert_stopped_cleanly(status, err, tmp, tmp_path / "out", signal.SIGINT)


def test_a_stopped_command_returns_minus_the_signal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    def stopped(args: object) -> None:
        raise stopping.Stopped(signal.SIGTERM)

    monkeypatch.setattr(cli, "_dispatch", stopped)
    assert cli._main(["run", str(tmp_path), "--out", str(tmp_path / "o")]) == (-signal.SIGTERM, True)
    assert "stopped by SIGTERM" in caplog.text


def test_sigterm_raises_only_inside_the_block() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(stopping.Stopped) as got, stopping.sigterm_raises():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at the next bytecode; never reached
    assert stopping.signum_of(got.value) == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before
    assert stopping.signum_of(KeyboardInterrupt()) == signal.SIGINT


def _pid_or_wait(item: int) -> int:
    if item:
        time.sleep(300)
    return os.getpid()


def test_a_map_given_up_kills_its_workers_instead_of_waiting() -> None:
    results = pool.ordered_map(_pid_or_wait, [0, 1, 2, 3], workers=2, window=2)
    first = next(results)
    closing = threading.Thread(target=results.close)  # what an exception in the consumer does
    closing.start()
    closing.join(timeout=60)
    assert not closing.is_alive(), "the pool waited for items nobody will read"
    assert not _alive(first)
