"""`--engine ray` writes the same bytes as the local engine, keeps the extraction time limit, and
says in one line how to install Ray when it is missing.

One local Ray (2 CPUs) for the whole module: starting Ray costs seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from conftest import RAW, ROOT
from test_workers import raw_batch, slow_on_marker

from pipeline import cli, ray_engine, runner, tasks
from pipeline.params import DedupParams, ExtractParams, IngestParams, Params

SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    import ray  # the [ray] extra: `make test` installs it

    # The slow test extractor (test_workers') must reach the actors by value: they cannot import
    # the test modules.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.cloudpickle.register_pickle_by_value(sys.modules[slow_on_marker.__module__])
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in {".parquet", ".json"}}


def _assert_same(local: Path, ray_out: Path) -> None:
    one, two = _files(local), _files(ray_out)
    assert sorted(one) == sorted(two)
    assert "articles.parquet" in one and "stages/strip/paragraphs.parquet" in one
    for name in one:
        assert one[name] == two[name], f"{name} differs between --engine local and --engine ray"


def test_ray_stage_commands_write_the_sample_run_byte_for_byte(local_ray: None, sample_out: Path,
                                                               tmp_path: Path) -> None:
    """The stage subcommands one by one, as DVC would call them (`run` is tested below)."""
    out = tmp_path / "out"
    common = ["--out", str(out), "--params", str(ROOT / "params.yaml")]
    for stage in ("ingest", "extract", "strip"):
        args = ["-q", stage, *([str(RAW)] if stage == "ingest" else []), *common]
        assert cli.main([*args, "--engine", "ray", "--workers", "2"]) == 0
    for stage in ("dedup", "export"):
        assert cli.main(["-q", stage, *common]) == 0
    _assert_same(sample_out, out)
    assert not (out / "ray-work").exists()  # shards are removed once their stage is done


@pytest.mark.skipif(not (SHARED_DATA / "bench").is_dir(), reason="needs shared/data beside the repo")
def test_ray_engine_matches_local_on_a_generated_corpus(local_ray: None, tmp_path: Path) -> None:
    if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts beside the package, not installed
        sys.path.insert(0, str(ROOT))
    from benchmarks.load import CorpusMaker

    raw = tmp_path / "raw"
    CorpusMaker(seed=11, html_share=0.02).write(raw, 2000)  # text-heavy: fast to extract
    # Small batches: a few dozen shards per stage, shared between the two actors.
    # dedup: shards of 2,000 paragraphs, so the signing phase has several.
    params = Params(ingest=IngestParams(batch_size=64), dedup=DedupParams(shard_rows=2000))
    local = runner.run_all(raw, tmp_path / "local", params, workers=1)
    work = tmp_path / "work"
    on_ray = ray_engine.run("run", tmp_path / "ray", params, 2, raw, work_dir=work.as_uri())
    assert local == on_ray and on_ray["export"]["articles"] > 1800
    assert on_ray["ingest"]["documents"] == 2000
    assert local["dedup"]["paragraphs_in"] > 3 * 2000 and local["dedup"]["removed_across_documents"] > 0
    _assert_same(tmp_path / "local", tmp_path / "ray")
    assert not any(work.iterdir())  # every stage's shard folder is gone
    # And dedup alone over a local pool of 2 workers, on the same strip output.
    pooled = _upstream_of_dedup(tmp_path / "local", tmp_path / "pooled")
    assert runner.run_dedup(pooled, params, workers=2) == local["dedup"]
    assert _dedup_files(pooled) == _dedup_files(tmp_path / "local")


def _upstream_of_dedup(src: Path, dest: Path) -> Path:
    """A copy of a run's extract and strip outputs: what `pipeline dedup` reads."""
    for stage in ("extract", "strip"):
        shutil.copytree(src / "stages" / stage, dest / "stages" / stage)
    return dest


def _dedup_files(out: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted((out / "stages" / "dedup").iterdir())}
    assert sorted(files) == ["dup_clusters.parquet", "paragraphs.parquet"]  # and no work folder left
    return {**files, "metrics": (out / "metrics" / "dedup.json").read_bytes()}


def test_dedup_on_a_pool_and_on_ray_writes_the_bytes_of_one_worker(local_ray: None, sample_out: Path,
                                                                   tmp_path: Path) -> None:
    """`pipeline dedup --workers 1|2 [--engine ray]` on the sample's strip output, cut into shards
    of 25 paragraphs: same files, and copies across shards are still found."""
    with open(ROOT / "params.yaml", encoding="utf-8") as f:
        raw_params = yaml.safe_load(f)
    raw_params["dedup"]["shard_rows"] = 25
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(raw_params), encoding="utf-8")
    outs = {}
    for name, extra in (("one", ["--workers", "1"]), ("pool", ["--workers", "2"]),
                        ("ray", ["--workers", "2", "--engine", "ray"])):
        out = _upstream_of_dedup(sample_out, tmp_path / name)
        assert cli.main(["-q", "dedup", "--out", str(out), "--params", str(params_file), *extra]) == 0
        outs[name] = _dedup_files(out)
    assert outs["pool"] == outs["one"] and outs["ray"] == outs["one"]
    assert not (tmp_path / "ray" / "ray-work").exists()
    counters = json.loads(outs["one"]["metrics"])["dedup"]
    assert counters["paragraphs_in"] > 4 * 25 and counters["removed_across_documents"] > 0
    # The sample run (params.yaml: one shard) wrote the same files.
    assert outs["one"] == _dedup_files(sample_out)


def test_a_timeout_inside_a_ray_actor_is_an_extract_timeout_reject(local_ray: None, tmp_path: Path) -> None:
    page = "<html><body><article><p>{}</p></article></body></html>"
    good = page.format("An ordinary paragraph of an article, long enough to be kept as its text. " * 3)
    task = tasks.ExtractTask(ExtractParams(timeout_seconds=2), slow_on_marker)
    mapper = ray_engine.RayMapper(str(tmp_path / "work"))
    start = time.monotonic()
    results = list(mapper(task, [raw_batch(good), raw_batch(page.format("SLOW-MARKER"), good)], 2))
    assert time.monotonic() - start < 50  # the slow page was killed, not waited for
    assert results[0].counters["documents"] == 1
    rejects = results[1].tables["rejects"].to_pylist()
    assert [(r["doc_id"], r["reason_code"]) for r in rejects] == [("d0", "extract_timeout")]
    assert results[1].tables["documents"].column("doc_id").to_pylist() == ["d1"]


def test_engine_ray_without_ray_is_a_one_line_error(tmp_path: Path) -> None:
    # `sys.modules["ray"] = None` makes `import ray` fail as it does where Ray is not installed.
    code = ("import sys; sys.modules['ray'] = None; from pipeline.cli import main; "
            f"sys.exit(main(['run', {str(RAW)!r}, '--out', {str(tmp_path / 'out')!r}, '--engine', 'ray']))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         check=False)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [f"ERROR pipeline: {ray_engine.INSTALL_HINT}"]
    assert not (tmp_path / "out").exists()  # refused before any work


def test_ray_options_without_engine_ray_are_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", str(RAW), "--out", str(tmp_path / "out"), "--ray-address", "auto"])
    assert exit_info.value.code == 2
    assert "--ray-address and --work-dir are for --engine ray" in capsys.readouterr().err


def test_filesystem_takes_paths_and_uris(tmp_path: Path) -> None:
    import pyarrow.fs as pafs

    fs, path = ray_engine.filesystem(str(tmp_path / "a"))
    assert isinstance(fs, pafs.LocalFileSystem) and path == (tmp_path / "a").as_posix()
    fs, path = ray_engine.filesystem((tmp_path / "b").as_uri())
    assert isinstance(fs, pafs.LocalFileSystem) and path == (tmp_path / "b").as_posix()
    fs, path = ray_engine.filesystem("memory://shards")  # a scheme only fsspec knows
    assert isinstance(fs, pafs.PyFileSystem)
    store = ray_engine.ShardStore("memory://shards/t")
    table = pa.table({"x": [1, 2, 3]})
    store.put("s.parquet", table)
    assert store.get("s.parquet").equals(table)
    store.remove()
