"""Same inputs and params give byte-identical files; the stage subcommands equal `pipeline run`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RAW, ROOT

FINAL = ("articles.parquet", "paragraphs.parquet", "rejects.parquet")


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "-q", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    outs = []
    for name in ("run1", "run2"):
        out = tmp_path_factory.mktemp(name)
        res = _cli("run", str(RAW), "--out", str(out), "--params", str(ROOT / "params.yaml"))
        assert res.returncode == 0, res.stderr
        outs.append(out)
    return outs[0], outs[1]


def test_pipeline_run_is_byte_identical(two_runs) -> None:
    a, b = two_runs
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    for name in fa:
        assert fa[name] == fb[name], f"{name} differs between two runs"
    for name in FINAL:
        assert name in fa


def test_input_order_on_disk_does_not_matter(two_runs, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(RAW.iterdir(), reverse=True):  # created in the opposite order
        shutil.copy(p, raw / p.name)
    out = tmp_path / "out"
    assert _cli("run", str(raw), "--out", str(out), "--params", str(ROOT / "params.yaml")).returncode == 0
    for name in FINAL:
        assert (out / name).read_bytes() == (two_runs[0] / name).read_bytes()


def test_stage_subcommands_give_the_same_files_as_run(two_runs, tmp_path: Path) -> None:
    params = ["--params", str(ROOT / "params.yaml")]
    for args in (["ingest", str(RAW)], ["extract"], ["strip"], ["dedup"], ["export"]):
        res = _cli(*args, "--out", str(tmp_path), *params)
        assert res.returncode == 0, res.stderr
    for name in FINAL:
        assert (tmp_path / name).read_bytes() == (two_runs[0] / name).read_bytes()
    metrics = json.loads((tmp_path / "metrics" / "strip.json").read_text())
    assert metrics["strip"]["removed_by_rule"]["akismet_notice_v1"] == 1


def test_no_temporary_files_are_left(two_runs) -> None:
    leftovers = [p for p in two_runs[0].rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_console_script_and_help() -> None:
    exe = Path(sys.executable).parent / "pipeline"
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    res = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert res.returncode == 0
    for command in ("run", "ingest", "extract", "strip", "dedup", "export"):
        assert command in res.stdout


def test_bad_params_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text("dedup:\n  threshold: 1.5\n", encoding="utf-8")
    res = _cli("run", str(RAW), "--out", str(tmp_path / "out"), "--params", str(bad))
    assert res.returncode == 2
    assert "dedup.threshold must be in (0, 1]" in res.stderr
    assert not (tmp_path / "out" / "articles.parquet").exists()


def test_missing_raw_dir_exit_2(tmp_path: Path) -> None:
    res = _cli("run", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_stage_without_upstream_output_says_what_to_run(tmp_path: Path) -> None:
    res = _cli("strip", "--out", str(tmp_path))
    assert res.returncode == 2
    assert "run `pipeline extract` first" in res.stderr


def test_dvc_yaml_names_every_stage() -> None:
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["ingest", "extract", "strip", "dedup", "export", "report"]
    for name, stage in stages.items():
        assert stage["cmd"].startswith(f"pipeline {name}")
        if name != "report":  # the audit view: report.html and a plot, no counters of its own
            assert any(f"clean/metrics/{name}.json" in m for m in stage["metrics"])
    assert any("clean/plots/removals_by_rule.csv" in p for p in stages["report"]["plots"])
