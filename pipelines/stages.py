"""DVC stages as Prefect tasks: each runs ``dvc repro --single-item <stage>``, so DVC decides
whether the stage is up to date; the flow only orders and selects stages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from t2l.jobs import trained_on
from t2l.params import load

# A stage that failed for one of these reasons may pass when retried: its process was killed by a
# signal (OOM killer, preemption: -N when DVC's shell exec'd the command, 128+N = 137 for SIGKILL or
# 143 for SIGTERM when a shell such as dash reported it), another DVC process held the lock, or the
# network/store blinked.
TRANSIENT = re.compile(r"exited with (?:-\d+|137|143)\b|Unable to acquire lock|database is locked"
                       r"|Connection (?:reset|refused|aborted)|Temporary failure in name resolution|timed out",
                       re.IGNORECASE)
TAIL = 4000  # characters of a failed stage's output in its error


class StageFailed(RuntimeError):
    def __init__(self, stage: str, returncode: int, output: str):
        self.stage, self.returncode = stage, returncode
        self.transient = returncode < 0 or bool(TRANSIENT.search(output))
        kind = "transient" if self.transient else "permanent"
        super().__init__(f"dvc repro {stage} failed ({kind}, exit {returncode}):\n{output[-TAIL:]}")


def retry_transient(task, task_run, state) -> bool:
    """Prefect retry condition: retry StageFailed only when it was transient (anything else: retry)."""
    error = state.result(raise_on_failure=False)
    return not isinstance(error, StageFailed) or error.transient


def stage_names(project: Path) -> list[str]:
    """Every stage of dvc.yaml that DVC may run (frozen ones, such as the shipped stand-in CLIP's,
    left out), foreach stages expanded, in file order."""
    from dvc.repo import Repo

    with Repo(str(project)) as repo:
        return [s.name for s in repo.index.stages if not s.frozen]


def select(stages: list[str], project: Path, protocols: list[str] | None, datasets: list[str] | None) -> list[str]:
    """The stages for some evaluation protocols (with the training jobs they score) and datasets."""
    if not protocols and not datasets:
        return stages
    params = load(project / "params.yaml")
    trained = {trained_on(params, p) for p in protocols or ()}
    keep = []
    for stage in stages:
        kind, _, item = stage.partition("@")
        if protocols and (kind == "evaluate" and item not in protocols
                          or kind == "train" and params["jobs"][item]["protocol"] not in trained):
            continue
        if datasets and kind in ("splits", "describe", "extract") and item not in datasets:
            continue
        keep.append(stage)
    return keep


def stage_env(project: Path, tracking_uri: str, parent_run_id: str) -> dict[str, str]:
    """The stages' environment: this interpreter's bin first (dvc runs ``t2l ...``), the MLflow store
    and the flow's parent run."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_PARENT_RUN_ID": parent_run_id}


@task(name="dvc-repro", task_run_name="{stage}", cache_policy=NO_CACHE, retry_condition_fn=retry_transient)
def repro(stage: str, project: str, env: dict[str, str]) -> str:
    """Run one stage, streaming its output to the Prefect log line by line (a progress bar's
    redraws collapsed to their last state); return the whole output. Raises StageFailed
    (transient or not) on failure."""
    logger = get_run_logger()
    logger.info("dvc repro --single-item %s (MLflow parent run %s)", stage, env.get("MLFLOW_PARENT_RUN_ID"))
    proc = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "--single-item", stage], cwd=project,
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    for raw in proc.stdout:
        line = raw.decode(errors="replace").rstrip("\n").split("\r")[-1].rstrip()
        if line:
            logger.info(line)
            lines.append(line)
    output = "\n".join(lines)
    if proc.wait() != 0:
        raise StageFailed(stage, proc.returncode, output)
    return output
