"""The pool's fork server ends without the interpreter's teardown (`pipeline.serverexit`), and
importing that module anywhere else changes nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import ROOT, env_importing

# Registered before pipeline.serverexit's handler, so run after it (atexit is last in, first
# out): its file is written only if the fork server went through the interpreter's teardown.
MARKER = textwrap.dedent("""
    import atexit, os, pathlib
    HERE = pathlib.Path(__file__).parent
    (HERE / "server.pid").write_text(str(os.getpid()))
    atexit.register(lambda: (HERE / "torn_down").write_text("yes"))
""")

SCRIPT = textwrap.dedent("""
    import multiprocessing as mp, sys
    def noop():
        pass
    if __name__ == "__main__":
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(sys.argv[1:])
        p = ctx.Process(target=noop)
        p.start()
        p.join()
""")


def _server_exit(tmp_path: Path, preload: list[str]) -> bool:
    """Start a fork server preloading `preload`, end its client, wait for the server to exit;
    did it tear its interpreter down?"""
    tmp_path.mkdir()
    (tmp_path / "marker_mod.py").write_text(MARKER, encoding="utf-8")
    script = tmp_path / "client.py"
    script.write_text(SCRIPT, encoding="utf-8")
    subprocess.run([sys.executable, str(script), *preload], cwd=ROOT, check=True, timeout=60,
                   env=env_importing(tmp_path))
    pid = int((tmp_path / "server.pid").read_text())
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the fork server outlived its client"
    return (tmp_path / "torn_down").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_the_fork_server_skips_its_teardown(tmp_path: Path) -> None:
    assert _server_exit(tmp_path / "a", ["marker_mod"]) is True  # the control: teardown ran
    assert _server_exit(tmp_path / "b", ["marker_mod", "pipeline.serverexit"]) is False


def test_importing_it_elsewhere_registers_nothing() -> None:
    # multiprocessing registers its own exit handler when it is first imported: not ours.
    code = ("import atexit, multiprocessing.forkserver; n = atexit._ncallbacks(); "
            "import pipeline.serverexit; print(atexit._ncallbacks() - n)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "0"
