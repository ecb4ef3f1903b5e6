from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from pipeline import runner
from pipeline.params import Params, load_params
from pipeline.rules import RuleSet, load_rules

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"


def env_tmpdir(folder: Path) -> dict[str, str]:
    """The environment for a `pipeline` run whose temporary folder a test looks into, or that it
    kills with SIGKILL (then nothing can remove the folder multiprocessing made for its fork
    server, a /tmp/pymp-* per run): TMPDIR is the test's own `folder`, created empty."""
    folder.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "TMPDIR": str(folder)}


def env_importing(folder: Path) -> dict[str, str]:
    """This process's environment with `folder` first on PYTHONPATH, for a child whose fork server
    must import a test's module from it (Python 3.11's fork server ignores its client's sys.path)."""
    paths = [str(folder), os.environ.get("PYTHONPATH")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


@pytest.fixture(scope="session")
def params() -> Params:
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory: pytest.TempPathFactory, params: Params) -> Path:
    """The whole pipeline on the shipped sample corpus, once per test session."""
    out = tmp_path_factory.mktemp("sample_out")
    runner.run_all(RAW, out, params)
    return out


@pytest.fixture(scope="session")
def sample_paragraphs(sample_out: Path) -> pd.DataFrame:
    return pd.read_parquet(sample_out / "paragraphs.parquet")


@pytest.fixture(scope="session")
def sample_articles(sample_out: Path) -> pd.DataFrame:
    return pd.read_parquet(sample_out / "articles.parquet")
