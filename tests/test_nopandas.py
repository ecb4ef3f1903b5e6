"""pyarrow kept from importing pandas in the stage commands (`pipeline/nopandas.py`): a stage
command's process and the pool's workers never import it, and the outputs are the bytes a process
with pandas writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow_probe
from conftest import RAW, ROOT

from pipeline import nopandas, pool, runner
from pipeline.params import Params

# The CLI in a child, saying at the end whether pandas was ever imported in its process.
_CLI = ("import sys; from pipeline import cli; code = cli.main(sys.argv[1:]); "
        "print('pandas' in sys.modules); sys.exit(code)")


def test_a_run_imports_no_pandas_and_writes_what_a_process_with_pandas_writes(tmp_path: Path,
                                                                                params: Params) -> None:
    out = tmp_path / "cli"
    res = subprocess.run([sys.executable, "-c", _CLI, "-q", "run", str(RAW), "--out", str(out),
                          "--workers", "1"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
    assert "pandas" in sys.modules  # this process has it (conftest): pyarrow may use it here
    runner.run_all(RAW, tmp_path / "lib", params)
    files = sorted(p.relative_to(out) for p in out.rglob("*.parquet"))
    assert len(files) >= 12
    for rel in files:
        assert (out / rel).read_bytes() == (tmp_path / "lib" / rel).read_bytes(), rel


def test_pool_workers_go_without_pandas() -> None:
    job = pool.Background(pyarrow_probe.pandas_after_pa_array, None)
    try:
        assert job.result() is False
    finally:
        job.close()


def test_pandas_is_refused_for_one_look_only() -> None:
    probe = ("import sys; from pipeline import nopandas; print(nopandas.keep_pyarrow_from_pandas()); "
             "import pyarrow as pa; pa.array([1]); print('pandas' in sys.modules); "
             "import pandas; print('pandas' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["True", "False", "True"]  # done; pyarrow does not look again; import works
    assert nopandas.keep_pyarrow_from_pandas() is False  # pandas is imported here already: nothing done
    assert not any(isinstance(f, nopandas._Refuse) for f in sys.meta_path)
