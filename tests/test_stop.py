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
from conftest import ROOT, env_tmpdir
from test_workers import _alive, pool_corpus

from pipeline import cli, pool, stopping

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")
EXTRACT_WRITING = "stages/extract/.paragraphs.parquet.*.tmp"


def _stop_during_extract(tmp_path: Path, signum: int, workers: int, group: bool) -> tuple[int, str, Path]:
    """Run `pipeline run`, send `signum` once extract writes (to the run's process group if
    `group`, as a terminal's Ctrl-C does); (exit status, stderr, temporary folder)."""
    raw, params = pool_corpus(tmp_path)
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-q", "run", str(raw), "--out", str(out),
                             "--params", str(params), "--workers", str(workers)],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=env_tmpdir(tmp))
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not (
            any(out.glob(EXTRACT_WRITING)) and _children(proc.pid)):  # the extraction process is up
        time.sleep(0.002)
    # Into the stage (it takes about 1.1 s here), past the instants where a stop cannot be clean:
    # between a file's creation and the block that deletes it (`remove_unfinished` sweeps those),
    # inside the pool's creation (a semaphore made but not yet given its finaliser), inside a
    # __del__ (Python ignores an exception raised there, Ctrl-C included).
    time.sleep(0.3)
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
    assert f"ERROR pipeline: stopped by {name}: " in err
    # No traceback of the run's own (the exception unwinding the stage), nor of its extraction
    # process ("Process ForkProcess-1:"). A pool worker that the fork server was starting at
    # that instant may still print one of its own on its way out (the semaphore it unpickles is
    # gone): Python's, not the run's.
    assert "KeyboardInterrupt" not in err and "Stopped" not in err and "pipeline/runner.py" not in err, err
    assert "Process ForkProcess" not in err, err
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
    assert "stopped by SIGTERM: the stages that finished" in caplog.text
    caplog.clear()
    # An audit command only reads a run: no word about stages, nothing swept.
    assert cli._main(["show", "--out", str(tmp_path / "o"), "x"]) == (-signal.SIGTERM, False)
    assert [r.getMessage() for r in caplog.records] == ["stopped by SIGTERM"]


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


def _sigint_state(_: object = None) -> tuple[bool, bool]:
    """(SIGINT ignored, SIGINT blocked) in the calling process."""
    return (signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
            signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_workers_leave_ctrl_c_to_the_run_from_their_first_instruction() -> None:
    # Forked with SIGINT blocked, then ignoring it: a Ctrl-C while one starts gave it a
    # traceback ("Exception ignored in: <function _after_fork>").
    from pipeline.timelimit import TimeLimited

    limited = TimeLimited(_sigint_state, 60)
    try:
        assert limited() == (True, False)
    finally:
        limited.close()
    assert _sigint_state() == (False, False)  # this process: as it was
    assert set(pool.ordered_map(_sigint_state, [1, 2, 3, 4], workers=2)) == {(True, False)}
    import multiprocessing.forkserver

    server = multiprocessing.forkserver._forkserver._forkserver_pid
    blocked = next(line for line in Path(f"/proc/{server}/status").read_text().splitlines()
                   if line.startswith("SigBlk:"))
    assert int(blocked.split()[1], 16) & (1 << (signal.SIGINT - 1))


def test_a_stopped_command_sweeps_what_unfinished_writes_left(tmp_path: Path) -> None:
    from pipeline.parquet_io import remove_unfinished

    kept = tmp_path / "stages" / "extract" / "paragraphs.parquet"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"complete")
    (kept.parent / ".paragraphs.parquet.k2j4.tmp").write_bytes(b"torn")
    (tmp_path / ".articles.parquet.x9.tmp").write_bytes(b"torn")
    for folder in ("stages/dedup/.work-ab12", "stages/dedup/.presign-cd34"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "part-000000.npz").write_bytes(b"scratch")
    assert remove_unfinished(tmp_path) == 4
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "stages/extract/paragraphs.parquet"]
    assert remove_unfinished(tmp_path / "missing") == 0


def test_the_extraction_process_is_forked_with_ctrl_c_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the fork itself leaves, before the process ignores and unblocks SIGINT: blocked.
    from pipeline import timelimit

    monkeypatch.setattr(timelimit, "leave_sigint_to_parent", lambda: None)
    limited = timelimit.TimeLimited(_sigint_state, 60)
    try:
        assert limited()[1] is True
    finally:
        limited.close()
    assert _sigint_state() == (False, False)  # this process: unblocked again after the fork
