"""`--engine ray`: the per-document stages (ingest, extract, strip) and dedup's shard phases on Ray.

The stages run the very task objects of the local engine (pipeline/tasks.py) through the same
runner entry points; only the mapper differs: `RayMapper` stands in for `pool.ordered_map`.
Each batch the runner reads is written as one Parquet shard under the work folder (any
pyarrow/fsspec URI, so S3 on a cluster), a Ray actor reads the shard, runs the task on it and
returns the stage result, and results come back in shard order, at most two shards per actor in
flight. The driver writes the stage outputs exactly as the local engine does.

dedup goes the same way (`runner.run_dedup` with this mapper): the signing phase over shards of
the strip output and the band group-by (one shard per band: its keys over the whole corpus) run on
actors; the cluster merge and the filter, the one step that sees the whole corpus, and export stay
in the driver.

Why actors over shards and not Ray Data's `map_batches`: identical bytes need identical batches
(each batch is one row group of the stage output, and strip's lookups are per batch), and Ray
Data re-cuts blocks as it pleases; a stage returns several tables plus counters, not one table
per batch; and extract keeps per-process state (its time-limited extraction worker, a forked
child that can be killed) that an actor holds for the whole stage, like a pool worker does.

Ray is an optional extra, imported only here and only when this engine runs.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline import logsetup, runner
from pipeline.export_errors import MissingExtra
from pipeline.params import Params

log = logging.getLogger(__name__)
INSTALL_HINT = "--engine ray needs Ray, an optional extra: pip install 'pipeline[ray]' (in a checkout: " \
               "pip install -e '.[ray]')"
PER_DOCUMENT = ("ingest", "extract", "strip")
ON_RAY = (*PER_DOCUMENT, "dedup")


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingExtra(INSTALL_HINT) from exc
    return ray


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and path of a folder given as a local path or a URI (s3://, gs://, file://,
    or any scheme fsspec knows, through its pyarrow adapter)."""
    if "://" not in uri:
        return pafs.LocalFileSystem(), Path(uri).resolve().as_posix()
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        import fsspec  # installed with ray[data]

        fs, path = fsspec.core.url_to_fs(uri)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


@dataclass
class ShardStore:
    """A folder of Parquet shards that the driver and every actor can reach."""

    uri: str
    _fs: tuple[pafs.FileSystem, str] | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"uri": self.uri, "_fs": None}  # each process opens its own connection

    def _path(self, name: str = "") -> tuple[pafs.FileSystem, str]:
        if self._fs is None:
            self._fs = filesystem(self.uri)
        fs, base = self._fs
        return fs, f"{base}/{name}" if name else base

    def put(self, name: str, table: pa.Table) -> None:
        fs, path = self._path(name)
        fs.create_dir(self._path()[1], recursive=True)
        with fs.open_output_stream(path) as f:
            pq.write_table(table, f, compression="zstd")

    def get(self, name: str) -> pa.Table:
        fs, path = self._path(name)
        with fs.open_input_file(path) as f:
            return pq.read_table(f)

    def delete(self, name: str) -> None:
        fs, path = self._path(name)
        fs.delete_file(path)

    def remove(self) -> None:
        fs, base = self._path()
        if fs.get_file_info(base).type != pafs.FileType.NotFound:
            fs.delete_dir(base)


class ShardWorker:
    """One Ray actor: holds the stage's task (sent once) and runs it on shard after shard."""

    def __init__(self, task: Callable[[Any], Any], store: ShardStore, log_level: int) -> None:
        logsetup.configure(log_level)
        self.task, self.store = task, store

    def run(self, name: str) -> Any:
        return self.task(self.store.get(name))

    def close(self) -> None:
        close = getattr(self.task, "close", None)  # ExtractTask's extraction worker
        if close is not None:
            close()


@dataclass
class RayMapper:
    """`pool.ordered_map` on Ray: same signature, same results in the same order."""

    work_dir: str
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def __call__(self, task: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
        ray = import_ray()
        store = ShardStore(f"{self.work_dir.rstrip('/')}/{next(self._seq):02d}-{type(task).__name__}")
        store.remove()  # shards of an earlier, interrupted run
        n = _actors(ray, workers)
        actor_cls = ray.remote(num_cpus=1)(ShardWorker)
        task_ref = ray.put(task)
        level = logging.getLogger().getEffectiveLevel()
        actors = [actor_cls.remote(task_ref, store, level) for _ in range(n)]
        pending: deque[tuple[str, Any]] = deque()
        try:
            for i, item in enumerate(items):
                name = f"shard-{i:08d}.parquet"
                store.put(name, item)
                # Round robin: an actor runs its shards in order, so the oldest shard is never
                # queued behind a newer one.
                pending.append((name, actors[i % n].run.remote(name)))
                while len(pending) >= 2 * n:
                    yield _collect(ray, store, *pending.popleft())
            while pending:
                yield _collect(ray, store, *pending.popleft())
            ray.get([a.close.remote() for a in actors])
        finally:
            for actor in actors:
                ray.kill(actor)  # its extraction child dies with it (die_with_parent)
            store.remove()


def _actors(ray: Any, workers: int) -> int:
    """`workers` actors of one CPU each, but no more than the cluster has CPUs (more would wait
    forever for a CPU)."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    if workers > cpus:
        log.warning("--workers %d but the Ray cluster has %d CPUs: using %d actors", workers, cpus, cpus)
    return max(1, min(workers, cpus))


def _collect(ray: Any, store: ShardStore, name: str, ref: Any) -> Any:
    result = ray.get(ref)
    store.delete(name)
    return result


@contextmanager
def session(address: str | None, workers: int) -> Iterator[None]:
    """Connect to the cluster at `address`, or start a local Ray with `workers` CPUs; a Ray that
    is already running in this process (a test's) is used as it is and left running."""
    ray = import_ray()
    if ray.is_initialized():
        yield
        return
    if address:
        ray.init(address=address, log_to_driver=True)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=True)
    try:
        log.info("ray: %s CPUs available", ray.cluster_resources().get("CPU", 0))
        yield
    finally:
        ray.shutdown()


def run(command: str, out: Path, params: Params, workers: int, raw_dir: Path | None = None,
        address: str | None = None, work_dir: str | None = None) -> dict[str, Any]:
    """`pipeline run|ingest|extract|strip|dedup --engine ray`: the per-document stages and dedup's
    shard phases on Ray; for `run`, export afterwards in this process."""
    if command not in ("run", *ON_RAY):
        raise ValueError(f"--engine ray runs {', '.join(ON_RAY)} and run, not {command}")
    import_ray()  # the one-line error before any work
    mapper = RayMapper(work_dir or (out / "ray-work").resolve().as_posix())
    results: dict[str, Any] = {}
    with session(address, workers):
        if command in ("run", "ingest"):
            assert raw_dir is not None
            results["ingest"] = runner.run_ingest(raw_dir, out, params, workers, mapper)
        for stage in ("extract", "strip", "dedup"):
            if command in ("run", stage):
                results[stage] = getattr(runner, f"run_{stage}")(out, params, workers, mapper)
    if command == "run":
        results["export"] = runner.run_export(out, params)  # one pass writing files: nothing to spread
    if work_dir is None:
        _remove_if_empty(out / "ray-work")
    return results


def _remove_if_empty(path: Path) -> None:
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()
