"""The Prefect retraining flow on the tiny world: real DVC stages, a real MLflow store, a Prefect test server."""

from __future__ import annotations

import shutil
from pathlib import Path

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import pytest
import yaml
from fixtures_pipeline import sh
from fixtures_prefect import MODEL, retrain
from mlflow.tracking import MlflowClient
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from pipelines.deploy import deploy_to_pool, deployment
from pipelines.stages import StageFailed, repro, select, stage_names


@pytest.fixture(scope="module")
def client(retrained):
    return MlflowClient(retrained.uri, retrained.uri)


def flow_runs(*ids) -> FlowRunFilter:
    return FlowRunFilter(id=FlowRunFilterId(any_=list(ids)))


def parent_of(client, flow_run_id):
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()],
                                f"tags.`prefect.flow_run_id` = '{flow_run_id}'")
    return run


def test_the_flow_runs_the_selected_stages_then_promotes(retrained, client):
    state = retrained.state
    assert state.is_completed(), state.message
    stages = state.result()
    assert stages[:5] == ["synth@synthetic", "splits@synthetic_source", "splits@synthetic_target", "protocols",
                          "validate"] and stages[-2:] == ["track", "register"]
    assert {"extract@synthetic_source", "train@zs-t2l", "train@zs-ttl", "evaluate@zero_shot"} <= set(stages)
    assert {f"evaluate@{e}" for e in ("zero_shot", "base2novel", "few_shot", "fully_supervised", "robustness")} <= set(stages)
    again = sh("dvc", "repro", "--single-item", *stages, cwd=retrained.project)
    assert all(f"Stage '{s}' didn't change, skipping" in again for s in stages)  # DVC recorded each stage

    with get_client(sync_client=True) as prefect:
        main = prefect.read_task_runs(flow_run_filter=flow_runs(state.state_details.flow_run_id))
        subflows = [r.id for r in prefect.read_flow_runs() if r.parent_task_run_id in {t.id for t in main}]
        shards = prefect.read_task_runs(flow_run_filter=flow_runs(*subflows))  # the sharded extraction
    tasks = {t.name for t in main + shards}
    assert {"synth@synthetic", "extract@synthetic_source", "track", "synthetic_source 0/2", "synthetic_source 1/2"} <= tasks
    assert "register" in tasks  # the promotion task, last

    parent = parent_of(client, state.state_details.flow_run_id)  # linked both ways
    assert parent.info.status == "FINISHED" and parent.data.tags["registry.promotion"] == "promoted"
    logs = {a.path for a in client.list_artifacts(parent.info.run_id, "logs")}
    assert {"logs/train_zs-t2l.log", "logs/track.log", "logs/register.log"} <= logs
    nested = client.search_runs([parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert "train/zs-t2l/main" in {r.info.run_name for r in nested}
    evaluations = client.search_runs([client.get_experiment_by_name("t2l/zero_shot").experiment_id],
                                     f"tags.pipeline_run_id = '{parent.info.run_id}'")
    assert "zero_shot · t2l · synthetic_target" in {r.info.run_name for r in evaluations}
    assert client.get_model_version_by_alias(MODEL, "champion").tags["parent_run_id"] == parent.info.run_id


def test_stages_are_selected_by_evaluation_and_dataset(retrained):
    every = stage_names(retrained.project)
    chosen = select(every, retrained.project, ["zero_shot"], ["synthetic_source"])
    assert {"train@zs-t2l", "train@zs-ttl", "evaluate@zero_shot", "extract@synthetic_source", "track"} <= set(chosen)
    assert not {"train@b2n-t2l", "evaluate@base2novel", "extract@synthetic_target", "describe@synthetic_target"} & set(chosen)
    assert select(every, retrained.project, [], []) == every


def test_a_failed_run_leaves_the_champion_untouched(retrained, tmp_path):
    project = Path(shutil.copytree(retrained.project, tmp_path / "project", symlinks=True))  # DVC removes a
    uri = f"sqlite:///{project}/mlflow/mlflow.db"  # failing stage's outputs: keep the shared project whole
    client = MlflowClient(uri, uri)
    champion = client.get_model_version_by_alias(MODEL, "champion").version
    versions = len(client.search_model_versions(f"name = '{MODEL}'"))
    params = project / "params.yaml"
    broken = yaml.safe_load(params.read_text())
    broken["evaluate"]["clips"] = "many"  # evaluate@ fails for good: no retry, the flow fails
    params.write_text(yaml.safe_dump(broken, sort_keys=False))
    state = retrain(project, uri)
    assert state.is_failed()
    assert client.get_model_version_by_alias(MODEL, "champion").version == champion
    assert len(client.search_model_versions(f"name = '{MODEL}'")) == versions
    parent = parent_of(client, state.state_details.flow_run_id)
    assert parent.info.status == "FAILED"
    with open(client.download_artifacts(parent.info.run_id, "logs/evaluate_zero_shot.log")) as log:
        assert "evaluate.clips: expected int" in log.read()


@pytest.mark.parametrize("shell", ["/bin/bash", "/bin/sh"])  # bash reports SIGKILL as -9, dash as 137
def test_transient_failures_are_retried_and_permanent_ones_are_not(prefect_server, tmp_path, monkeypatch, shell):
    monkeypatch.setenv("SHELL", shell)  # DVC runs stage commands through $SHELL
    sh("git", "init", "-q", cwd=tmp_path)
    sh("dvc", "init", "-q", cwd=tmp_path)
    killed_once = "test -f seen || { touch seen; kill -9 $$; }; echo ok > out"  # like the OOM killer
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {
        "flaky": {"cmd": f"sh -c '{killed_once}'", "outs": ["out"]},
        "broken": {"cmd": "sh -c 'echo attempt >> attempts; exit 3'"}}}))

    @flow
    def one(stage: str):
        return repro.with_options(retries=2, retry_delay_seconds=0)(stage, str(tmp_path), {})

    assert one("flaky", return_state=True).is_completed()
    assert (tmp_path / "out").read_text() == "ok\n"
    state = one("broken", return_state=True)
    assert state.is_failed() and (tmp_path / "attempts").read_text() == "attempt\n"
    with pytest.raises(StageFailed, match="permanent"):
        state.result()


def test_the_deployments_run_on_the_cron_schedule_of_params(retrained):
    cfg = yaml.safe_load((retrained.project / "params.yaml").read_text())["orchestrate"]
    served = deployment(retrained.project)  # what `python -m pipelines.deploy serve` serves
    (schedule,) = served.schedules
    assert served.name == cfg["deployment"] and served.parameters == {"project": str(retrained.project)}
    assert schedule.schedule.cron == cfg["cron"] and schedule.schedule.timezone == cfg["timezone"]

    with get_client(sync_client=True) as prefect:  # `python -m pipelines.deploy pool gpu`
        prefect.create_work_pool(WorkPoolCreate(name="gpu", type="process"))
        pooled = prefect.read_deployment(deploy_to_pool(retrained.project, "gpu"))
    assert pooled.work_pool_name == "gpu" and pooled.entrypoint == "pipelines/retrain.py:retrain"
    assert [s.schedule.cron for s in pooled.schedules] == [cfg["cron"]]
