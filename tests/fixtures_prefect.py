"""Prefect in tests: a private PREFECT_HOME and analytics off (set before prefect is imported), a
test server, and one run of the real retraining flow on a scratch DVC project of the tiny world,
every stage of dvc.yaml (shared by the DVC, flow, tracking and serving tests through conftest's
``retrained`` fixture)."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="t2l-prefect-home-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"

import pytest  # noqa: E402
from fixtures_pipeline import scratch_project as pipeline_project  # noqa: E402, F401
from fixtures_pipeline import small_params
from helpers import REPO  # noqa: E402

sys.path.insert(0, str(REPO))  # the `pipelines` package
JOBS = ("zs-t2l", "b2n-t2l", "fs-t2l")  # of params.yaml: every protocol (fully_supervised scores zs-t2l)
ZS_TTL = {"protocol": "zero_shot", "model": "ttl"}  # added: Fig. 3 compares zs-ttl and zs-t2l
MODEL = "t2l-t2l-tiny"  # register.name for the t2l-tiny backbone


@dataclass(frozen=True)
class Retrained:
    project: Path
    uri: str  # the project's MLflow store
    state: Any  # the first flow run's final Prefect state


def scratch_project(d: Path, **orchestrate) -> Path:
    """The tiny world's scratch project with only the JOBS and zs-ttl, one epoch, and ``orchestrate`` settings."""
    p = small_params()
    p["jobs"] = {**{k: v for k, v in p["jobs"].items() if k in JOBS}, "zs-ttl": ZS_TTL}
    p["train"]["epochs"] = 1
    p["orchestrate"].update(orchestrate)
    return pipeline_project(d, p)


@contextmanager
def server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@contextmanager
def store(uri: str) -> Iterator[None]:
    """MLFLOW_TRACKING_URI set to ``uri`` for the block only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        yield


def retrain(project: Path, uri: str):
    from pipelines.retrain import retrain as flow

    with store(uri):
        return flow(str(project), protocols=[], return_state=True)  # [] = every evaluation


def retrain_once(d: Path) -> Retrained:
    project = scratch_project(d, retries=1, retry_delay_s=0, extract_shards=2)
    uri = f"sqlite:///{project}/mlflow/mlflow.db"
    return Retrained(project, uri, retrain(project, uri))
