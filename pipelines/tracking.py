"""The MLflow parent run of one flow run: opened first, handed to every stage, closed last.

The run is tagged with the Prefect flow run, the flow run gets a Prefect artifact naming the MLflow
run, and each stage's output is stored with the run (``logs/<stage>.log``): either side leads to
the other.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import deployment, flow_run

from t2l.params import load, parse
from t2l.track.stage import TrackConfig
from t2l.track.store import configure, experiment_id


@task(name="open-mlflow-run", cache_policy=NO_CACHE)
def open_parent_run(project: str) -> tuple[str, str]:
    """Create the parent run in the experiment of params.yaml's ``track`` section; return (tracking
    URI, run id)."""
    client = configure(Path(project))
    params = load(Path(project) / "params.yaml")
    name = parse(TrackConfig, params.get("track") or {}, "track").experiment_name(params)
    run = client.create_run(experiment_id(client, name), run_name=f"pipeline {flow_run.name}", tags={
        "kind": "pipeline", "prefect.flow_run_id": str(flow_run.id), "prefect.flow_run_name": str(flow_run.name),
        "prefect.deployment": str(deployment.name or "")})
    create_markdown_artifact(key="mlflow-run", description="MLflow parent run of this flow run",
                             markdown=f"MLflow run `{run.info.run_id}` in experiment `{name}`")
    return client.tracking_uri, run.info.run_id


@task(name="log-stage-output", cache_policy=NO_CACHE)
def attach_log(project: str, run_id: str, stage: str, output: str) -> None:
    configure(Path(project)).log_text(run_id, output, f"logs/{stage.replace('@', '_')}.log")


@task(name="close-mlflow-run", cache_policy=NO_CACHE)
def close_parent_run(project: str, run_id: str, status: str) -> None:
    configure(Path(project)).set_terminated(run_id, status)
