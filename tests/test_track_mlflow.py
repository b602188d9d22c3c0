"""The MLflow store after the retraining flow: parent, training and evaluation runs, names,
artifacts, layout for the UI, registry, gate."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import pytest
import yaml
from fixtures_prefect import MODEL, store
from helpers import BIN
from matplotlib.container import ErrorbarContainer
from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient

from t2l.figures import plots
from t2l.fsio import file_digest, read_json, write_json
from t2l.params import parse
from t2l.track import registry
from t2l.track.links import compare_url, runs_url
from t2l.track.names import flat_metrics, flat_params, metric_groups, run_title, split_details
from t2l.track.registry import RegisterConfig, decide, variant_metrics

GATE = "zero_shot/synthetic_target/top1_mean"


@pytest.fixture(scope="module")
def client(retrained):
    return MlflowClient(retrained.uri, retrained.uri)


@pytest.fixture(scope="module")
def tracked(retrained):
    return read_json(retrained.project / "mlflow/track.json")


def execution_runs(client, parent_id: str) -> dict:
    """Every run of one pipeline execution by name: training runs nested under the parent,
    evaluation runs linked to it by tag in their protocols' experiments."""
    parent = client.get_run(parent_id)
    runs = client.search_runs([parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs += client.search_runs(experiments, f"tags.pipeline_run_id = '{parent_id}'")
    return {r.info.run_name: r for r in runs}


@pytest.fixture(scope="module")
def nested(client, tracked):
    return execution_runs(client, tracked["parent_run_id"])


def artifacts(client, run_id, path=None) -> set[str]:
    found = set()
    for a in client.list_artifacts(run_id, path):
        found |= artifacts(client, run_id, a.path) if a.is_dir else {a.path}
    return found


def test_the_parent_run_holds_all_params_lineage_and_figures(retrained, client, tracked):
    project = retrained.project
    parent = client.get_run(tracked["parent_run_id"])
    params = parent.data.params
    raw = yaml.safe_load((project / "params.yaml").read_text())
    expected = flat_params(raw)
    assert {k: params.get(k) for k in expected} == expected  # all of params.yaml
    assert params["train.lr"] == str(raw["train"]["lr"]) and params["jobs.zs-t2l.model"] == "t2l"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    assert parent.data.tags["mlflow.source.git.commit"] == head
    test1 = project / "data/splits/synthetic_target/test1.csv"
    assert params["lineage.dataset.synthetic_target.test1.csv.sha256"] == file_digest(test1)
    assert {"lineage.dvc_lock.sha256", "lineage.dataset.synthetic_source.sha256", "lineage.protocol.zero_shot.sha256",
            "lineage.dvc.data/raw/synthetic", "lineage.dvc.data/frames/synthetic_source"} <= set(params)
    assert {"standin/caption_accuracy", "standin/shape_accuracy"} <= set(parent.data.metrics)
    assert {"figures/results.png", "figures/training.png", "figures/robustness.png",
            "figures/fig3_tsne_frames.png", "figures/fig4_attention_t2l.png", "figures/fig4_attention_vanilla.png",
            "params.yaml", "dvc.lock", "metrics/zero_shot.json",
            "descriptions/synthetic_target.json"} <= artifacts(client, parent.info.run_id)


def test_dvc_plots_show_renders_the_figures_stage_as_images(retrained, tmp_path):
    out = subprocess.run([str(BIN / "dvc"), "plots", "show", "--json", "--out", str(tmp_path)], cwd=retrained.project,
                         capture_output=True, text=True, check=True, timeout=300)
    plots_ = json.loads(out.stdout)["data"]
    assert {"figures/results.png", "figures/training.png", "figures/fig3_tsne_frames.png"} <= set(plots_)
    assert all(p["type"] == "image" for entries in plots_.values() for p in entries)  # no vega, no CDN


def test_every_model_gets_the_same_metric_names_and_a_model_tag(client, tracked, nested):
    metrics = read_json(client.download_artifacts(tracked["parent_run_id"], "metrics/zero_shot.json"))
    names = None
    for model in ("t2l", "ttl", "vanilla"):
        run = nested[f"zero_shot · {model} · synthetic_target"]
        assert run.data.tags["model"] == model and run.data.tags["protocol"] == "zero_shot"
        assert run.data.metrics[GATE] == pytest.approx(metrics[model]["synthetic_target"]["top1_mean"], rel=1e-3)
        assert names is None or set(run.data.metrics) == names  # comparable side by side
        names = set(run.data.metrics)
        assert run.data.params["backbone"] == "t2l-tiny"
        assert {"per_class/main/synthetic_target_test1.per_class.csv", "confusion/main/synthetic_target_test1.png",
                "confusion/main/synthetic_target_test2.png"} <= artifacts(client, run.info.run_id)
    assert {"zero_shot/synthetic_target/top1_std", "zero_shot/synthetic_target/within_pair_mean"} <= names
    assert not any("/splits/" in n for n in names)  # per-split values are details, beside the summary
    run = nested["zero_shot · t2l · synthetic_target"]
    details = read_json(client.download_artifacts(run.info.run_id, "details.json"))
    assert "zero_shot/synthetic_target/splits/synthetic_target/test1/top1" in details
    assert nested["zero_shot · vanilla · synthetic_target"].data.params["trainable_parameters"] == "0"
    assert int(nested["zero_shot · t2l · synthetic_target"].data.params["trainable_parameters"]) > 0
    seen = nested["zero_shot · t2l · synthetic_target"].data.params  # how the evaluation saw clips and classes
    assert {k: seen[k] for k in ("eval.frames", "eval.views", "eval.crop", "eval.ensemble_weight")} == {
        "eval.frames": "8", "eval.views": "1 clip(s) x 1 crop(s), logits averaged", "eval.crop": "64", "eval.ensemble_weight": "1.0"}
    assert seen["eval.text"] == "descriptions: synthetic_target.json (template)"
    assert "zero_shot/source_val/top1" in nested["zero_shot · t2l · source_val"].data.metrics


def test_each_protocol_is_a_model_training_experiment_of_flat_evaluation_runs(client, tracked, nested):
    parent = client.get_run(tracked["parent_run_id"])
    zero_shot = client.get_experiment_by_name("t2l/zero_shot")
    for experiment in (client.get_experiment(parent.info.experiment_id), zero_shot):
        assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # opens on runs, not traces
    runs = client.search_runs([zero_shot.experiment_id], f"tags.pipeline_run_id = '{parent.info.run_id}'")
    assert {r.data.tags["model"] for r in runs} >= {"vanilla", "ttl", "t2l"}
    assert all("mlflow.parentRunId" not in r.data.tags for r in runs)  # listed flat, side by side
    assert all(len(repr(v)) <= 10 for r in runs for v in r.data.metrics.values())  # 4 significant digits
    assert set(tracked["evaluations"]["zero_shot"]["synthetic_target"].values()) <= {r.info.run_id for r in runs}
    assert tracked["ui"]["runs"]["zero_shot"] == f"http://127.0.0.1:5000/#/experiments/{zero_shot.experiment_id}/runs"
    assert "#/compare-runs?runs=" in tracked["ui"]["compare"]["zero_shot · synthetic_target"]


def test_training_runs_log_curves_and_per_epoch_metrics(client, nested):
    run = nested["train/zs-t2l/main"]
    assert run.data.tags["kind"] == "train" and run.data.tags["model"] == "t2l"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "train/loss")] == [0]  # one epoch
    assert {"train/tfd", "train/val_top1", "train/selected_val_top1"} <= set(run.data.metrics)
    assert {"curves.png", "history.csv", "train.json", "model.json"} <= artifacts(client, run.info.run_id)


def test_metric_names_follow_the_metrics_json_below_the_variant():
    b2n = {"t2l": {"hmdb51": {"base_top1": 0.8, "novel_top1": 0.5, "hm": 0.61, "seeds": {"seed0": {"hm": 0.6}}}},
           "notes": {"std": "..."}}
    few = {"t2l": {"ucf101": {"k2": {"top1_mean": 0.4, "top1_std": 0.0, "seeds": {"seed0": 0.4}}}}}
    rob = {"t2l": {"ucf101": {"clean_top1": 0.7, "blur": {"s2": {"top1": 0.6, "relative_drop": 0.14}}}}}
    assert list(metric_groups("base2novel", b2n)) == [("t2l", "hmdb51", {
        "base2novel/hmdb51/base_top1": 0.8, "base2novel/hmdb51/novel_top1": 0.5, "base2novel/hmdb51/hm": 0.61,
        "base2novel/hmdb51/seeds/seed0/hm": 0.6})]
    assert "few_shot/ucf101/k2/top1_mean" in next(metric_groups("few_shot", few))[2]
    assert "robustness/ucf101/blur/s2/relative_drop" in next(metric_groups("robustness", rob))[2]


def test_the_model_is_registered_as_a_self_contained_pyfunc_with_aliases(retrained, client, tmp_path):
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert client.get_model_version_by_alias(MODEL, "challenger").version == champion.version
    assert champion.tags["promotion"] == "promoted" and champion.tags["promotion_reason"] == "no champion yet"
    uri = f"models:/{MODEL}@champion"
    model_dir = Path(download_artifacts(uri, dst_path=str(tmp_path), tracking_uri=retrained.uri))
    files = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert {"MLmodel", "artifacts/weights.pt", "artifacts/model.json", "artifacts/t2l-tiny.pt"} <= files
    assert not any(f.endswith((".pkl", ".pickle", ".cloudpickle")) for f in files)  # models from code
    run_dir = retrained.project / "models/zero_shot/zs-t2l/main"
    assert file_digest(model_dir / "artifacts/weights.pt") == file_digest(run_dir / "weights.pt")
    assert file_digest(model_dir / "artifacts/t2l-tiny.pt") == file_digest(retrained.project / "models/standin/t2l-tiny.pt")
    mlmodel = yaml.safe_load((model_dir / "MLmodel").read_text())
    inputs = yaml.safe_load(mlmodel["signature"]["inputs"])
    assert [(c["name"], c["type"]) for c in inputs] == [
        ("video", "binary"), ("path", "string"), ("name", "string"), ("classes", "array")]


def fake_execution(client, tracked_dir, score: float) -> str:
    """A pipeline execution in the store whose t2l model scores ``score`` on the gate metric."""
    experiment = client.get_experiment_by_name("t2l").experiment_id
    parent = client.create_run(experiment, run_name="pipeline (test)").info.run_id
    train = client.create_run(experiment, run_name="train/zs-t2l/main",
                              tags={"mlflow.parentRunId": parent, "kind": "train", "model": "t2l"})
    ev = client.create_run(client.get_experiment_by_name("t2l/zero_shot").experiment_id,
                           run_name="zero_shot · t2l · synthetic_target",
                           tags={"pipeline_run_id": parent, "kind": "evaluate", "model": "t2l"})
    client.log_metric(ev.info.run_id, GATE, score)
    path = tracked_dir / f"track-{parent}.json"
    write_json(path, {"experiment_id": experiment, "parent_run_id": parent,
                      "runs": {"train/zs-t2l/main": train.info.run_id}})
    return path


def test_the_promotion_gate_promotes_only_a_better_challenger(retrained, client, tmp_path, monkeypatch):
    project = retrained.project
    monkeypatch.chdir(project)  # stages run at the project root
    cfg = parse(RegisterConfig, yaml.safe_load((project / "params.yaml").read_text())["register"], "register")
    champion = client.get_model_version_by_alias(MODEL, "champion")
    best = variant_metrics(client, champion.tags["parent_run_id"], "t2l")[GATE]

    def register(score):
        with store(retrained.uri):
            return registry.run(cfg, project / "params.yaml", fake_execution(client, tmp_path, score),
                                project / "models", tmp_path / "register.json")

    worse = register(best - 0.1)
    assert not worse["promoted"] and worse["reason"].startswith(f"worse on {GATE}")
    assert client.get_model_version_by_alias(MODEL, "champion").version == champion.version  # untouched
    rejected = client.get_model_version_by_alias(MODEL, "challenger")
    assert int(rejected.version) == worse["version"] and rejected.tags["promotion"] == "rejected"
    assert rejected.tags["promotion_reason"] == worse["reason"]

    better = register(best + 0.1)
    assert better["promoted"] and better["reason"].startswith(f"better on {GATE}")
    now = client.get_model_version_by_alias(MODEL, "champion")
    assert int(now.version) == better["version"]
    assert client.get_model_version_by_alias(MODEL, "challenger").version == now.version
    assert now.tags["promotion"] == "promoted" and f"(champion v{champion.version})" in now.tags["promotion_reason"]


@pytest.mark.parametrize("new, old, gate, promote, reason", [
    ({"a": 0.5}, {"a": 0.5}, {"a": "max"}, False, "does not beat the champion: equal on a"),
    ({"a": 0.4}, {"a": 0.5}, {"a": "min"}, True, "better on a"),
    ({"a": 0.6, "b": 0.1}, {"a": 0.5, "b": 0.2}, {"a": "max", "b": "max"}, False, "worse on b"),
    ({"b": 0.1}, {"a": 0.5}, {"a": "max"}, False, "challenger lacks gate metric(s) a"),
    ({"a": 0.1}, None, {"a": "max"}, True, "no champion yet"),
])
def test_decisions(new, old, gate, promote, reason):
    decision = decide(new, old, gate)
    assert decision.promote is promote and decision.reason.startswith(reason)


def test_metrics_keep_four_significant_digits_and_details_go_beside_the_summary():
    values = flat_metrics({"top1_mean": 0.09375000000000001, "lr": 0.00084050792939, "splits": {"t1": {"top1": 0.1}}},
                          "zero_shot/target")
    assert values == {"zero_shot/target/top1_mean": 0.09375, "zero_shot/target/lr": 0.0008405,
                      "zero_shot/target/splits/t1/top1": 0.1}
    summary, details = split_details(values)
    assert set(summary) == {"zero_shot/target/top1_mean", "zero_shot/target/lr"}
    assert details == {"zero_shot/target/splits/t1/top1": 0.1}
    assert run_title("zero_shot", "t2l", "ucf101") == "zero_shot · t2l · ucf101"


def test_the_comparison_link_names_its_runs_and_experiment():
    url = compare_url(["a1", "b2"], ["7", "7"], base="http://127.0.0.1:5077")
    assert url == "http://127.0.0.1:5077/#/compare-runs?runs=%5B%22a1%22%2C%20%22b2%22%5D&experiments=%5B%227%22%5D"
    assert runs_url("7", base="http://h:1") == "http://h:1/#/experiments/7/runs"


def test_the_results_figure_draws_a_labelled_bar_per_variant_in_order_with_std_and_chance():
    panels = [plots.Panel("zero_shot · ucf101", {"t2l": 40.0, "vanilla": 30.0}, {"t2l": 2.0, "vanilla": 1.0}, 1.0),
              plots.Panel("base2novel · ucf101.hm", {"t2l": 50.0})]
    fig = plots.results_figure(panels, {"t2l": "T2L", "vanilla": "vanilla CLIP"}, ["vanilla", "t2l"])
    first, second = fig.axes[:2]
    assert [round(p.get_height(), 1) for p in first.patches] == [30.0, 40.0]  # the report's order
    assert [t.get_text() for t in first.get_xticklabels()] == ["vanilla CLIP", "T2L"]
    assert [t.get_text() for t in first.texts] == ["30.0", "40.0"]  # each bar's value
    errorbars = [[c for c in ax.containers if isinstance(c, ErrorbarContainer)] for ax in (first, second)]
    assert len(errorbars[0]) == 1 and len(errorbars[0][0].lines[2][0].get_segments()) == 2  # std over splits
    assert errorbars[1] == []  # one run: no error bar
    assert [line.get_ydata()[0] for line in first.lines if line.get_linestyle() == "--"] == [1.0]
    assert not [line for line in second.lines if line.get_linestyle() == "--"]  # no chance known
