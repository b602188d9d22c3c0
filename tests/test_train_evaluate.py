"""Training and evaluation through the real CLI (CPU), in the tiny-world project the retraining
flow ran every stage of (conftest's ``retrained``: one epoch per job, every protocol)."""

import json
import os
import signal
import subprocess
import time

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import pandas as pd
import pytest
import torch
import yaml
from fixtures_pipeline import JOB
from helpers import BIN, run_t2l

from t2l.data.protocols.reader import SplitRef, read_runs
from t2l.evaluate import aggregate


@pytest.fixture(scope="module")
def workspace(retrained):
    return retrained.project


@pytest.fixture(scope="module")
def trained(workspace):
    return workspace


def pretrained(workspace) -> str:
    return yaml.safe_load((workspace / "params.yaml").read_text())["model"]["pretrained"]


def weights(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_training_writes_weights_curve_and_selects_on_source_val(trained):
    run_dir = trained / "models/zero_shot" / JOB / "main"
    summary = json.loads((run_dir / "train.json").read_text())
    assert summary["selected_by"] == "source val top-1" and summary["model"] == "t2l"
    history = pd.read_csv(run_dir / "history.csv")
    assert list(history["epoch"]) == [0]
    assert {"loss", "contrastive", "tfd", "lr", "val_top1"} <= set(history.columns)
    assert "clips_per_s" not in history  # measured time stays out of the DVC output ...
    timing = pd.read_csv(trained / "runs" / JOB / "main/timing.csv")  # ... beside the resume state
    assert list(timing.columns) == ["epoch", "clips_per_s"] and (timing["clips_per_s"] > 0).all()
    state = weights(run_dir / "weights.pt")
    assert "temporal.tokens" in state and not any(k.startswith("clip.") for k in state)


def test_model_selection_never_reads_target_splits(trained, monkeypatch):
    from t2l.frames.clip_spec import ClipSpec
    from t2l.model.config import variant
    from t2l.model.factory import build_model, tokenizer_for
    from t2l.train.loop import TrainConfig, Trainer

    read = []
    original = SplitRef.rows
    monkeypatch.setattr(SplitRef, "rows", lambda self: read.append(self.name) or original(self))
    (run,) = read_runs(trained / "data/protocols/zero_shot")
    cfg = variant("t2l", backbone="t2l-tiny", pretrained=str(trained / pretrained(trained)))
    trainer = Trainer(build_model(cfg), TrainConfig(epochs=1, batch_size=4, workers=0, flip=False),
                      ClipSpec(frames=8, crop=64, short_side=64), run, trained / "data/frames", {}, tokenizer_for(cfg),
                      trained / "scratch/last.pt")
    trainer.fit()
    assert set(read) == {"train", "val"} and run.val.dataset == "synthetic_source"
    assert all(e.dataset == "synthetic_target" for e in run.eval)


def test_kill_mid_training_then_resume_gives_the_same_weights(workspace, tmp_path):
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["train"]["epochs"] = 4
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    for d in ("data", "models"):
        os.symlink(workspace / d, tmp_path / d)
    args = ["train", "--job", JOB, "--params", str(tmp_path / "params.yaml")]
    run_t2l(*args, "--out", "clean", "--checkpoints", "clean_ckpt", cwd=tmp_path)

    cmd = [str(BIN / "t2l"), *args, "--out", "resumed", "--checkpoints", "ckpt"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = tmp_path / "ckpt/main/last.pt"
    deadline = time.time() + 120
    while time.time() < deadline and not (last.exists() and weights(last)["epoch"] >= 1):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert weights(last)["epoch"] < 3, "the kill must land before the last epoch"
    assert not (tmp_path / "resumed/main/weights.pt").exists()
    run_t2l(*args, "--out", "resumed", "--checkpoints", "ckpt", cwd=tmp_path)

    a, b = weights(tmp_path / "clean/main/weights.pt"), weights(tmp_path / "resumed/main/weights.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "clean/main/weights.pt").read_bytes() == (tmp_path / "resumed/main/weights.pt").read_bytes()
    ha, hb = (pd.read_csv(tmp_path / d / "main/history.csv") for d in ("clean", "resumed"))
    assert (tmp_path / "clean/main/history.csv").read_bytes() == (tmp_path / "resumed/main/history.csv").read_bytes()


def test_a_checkpoint_of_other_inputs_is_not_resumed(workspace, tmp_path):
    """`dvc repro` re-runs train@ when pretraining rewrote the backbone at the same path: the
    finished checkpoint of the old backbone must not be resumed, though no parameter changed."""
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["model"]["pretrained"] = str(tmp_path / "clip.pt")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    os.symlink(workspace / "data", tmp_path / "data")
    clip = weights(workspace / pretrained(workspace))
    torch.save(clip, tmp_path / "clip.pt")
    args = ["train", "--job", JOB, "--params", str(tmp_path / "params.yaml"), "--out", "out", "--checkpoints", "ckpt"]
    run_t2l(*args, cwd=tmp_path)
    old = weights(tmp_path / "out/main/weights.pt")
    assert "training from the start" not in run_t2l(*args, cwd=tmp_path).stdout  # same inputs: resumed, done

    torch.save({k: v + 0.01 if v.is_floating_point() else v for k, v in clip.items()}, tmp_path / "clip.pt")
    again = run_t2l(*args, cwd=tmp_path)
    assert "written for other inputs; training from the start" in again.stdout
    new = weights(tmp_path / "out/main/weights.pt")
    assert not all(torch.equal(old[k], new[k]) for k in old)


def test_two_process_ddp_on_gloo_keeps_ranks_identical(workspace, tmp_path):
    cmd = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m", "t2l.cli", "train", "--job", JOB,
           "--out", str(tmp_path / "ddp"), "--checkpoints", str(tmp_path / "ckpt")]
    proc = subprocess.run(cmd, cwd=workspace, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout[proc.stdout.index("["):])[0]
    assert summary["world_size"] == 2
    checksums = summary["weights_checksum_per_rank"]
    assert len(checksums) == 2 and checksums[0] == checksums[1]
    assert (tmp_path / "ddp/main/weights.pt").exists()


def test_evaluation_scores_every_video_the_split_lists(trained):
    metrics = json.loads((trained / "metrics/zero_shot.json").read_text())  # evaluate@zero_shot's
    (run,) = read_runs(trained / "data/protocols/zero_shot")
    for model in ("t2l", "ttl", "vanilla"):
        for e in run.eval:
            result = metrics[model]["synthetic_target"]["splits"][e.name]
            assert result["videos"] == len(pd.read_csv(e.csv)) and result["videos"] % 3 != 0  # batch size 3
        assert metrics[model]["source_val"]["videos"] == len(pd.read_csv(run.val.csv))
    assert metrics["vanilla"]["synthetic_target"]["within_pair_mean"] == 0.5  # frame averaging cannot tell
    assert metrics["vanilla"]["synthetic_target"]["reversal_change_mean"] < 1e-5
    assert metrics["t2l"]["synthetic_target"]["reversal_change_mean"] > 1e-5
    assert metrics["vanilla"]["synthetic_target"]["logit_std_mean"] > 0.1  # untrained CLIP does not predict uniformly
    per_class = pd.read_csv(trained / "reports/zero_shot/t2l/main/synthetic_target_test1.per_class.csv")
    assert per_class["videos"].sum() == len(pd.read_csv(run.eval[0].csv))


def test_eight_frame_models_evaluate_at_sixteen_frames_through_the_cli(trained, tmp_path):
    headline = (trained / "metrics/summary/zero_shot/synthetic_target.json").read_bytes()
    run_t2l("evaluate", "--protocol", "zero_shot", "--frames", "16", "--out", str(tmp_path / "zs16.json"),
            "--reports-dir", str(tmp_path / "reports"), cwd=trained)
    metrics = json.loads((tmp_path / "zs16.json").read_text())
    assert metrics["notes"]["frames"] == 16 and "t2l" in metrics
    assert (tmp_path / "summary/zero_shot/synthetic_target.json").is_file()  # the headlines go beside --out ...
    assert (trained / "metrics/summary/zero_shot/synthetic_target.json").read_bytes() == headline  # ... not over the project's
    assert json.loads((trained / "models/zero_shot" / JOB / "main/model.json").read_text())["frames"] == 8


def test_robustness_reports_drop_per_perturbation_and_severity(trained):
    metrics = json.loads((trained / "metrics/robustness.json").read_text())  # evaluate@robustness's
    for model in ("t2l", "vanilla"):
        group = metrics[model]["synthetic_target"]
        assert set(group) == {"clean_top1", "reverse", "gaussian_noise"}
        assert set(group["gaussian_noise"]) == {"s2"}
        drop, clean = group["reverse"]["s1"], group["clean_top1"]
        assert drop["relative_drop"] == pytest.approx((clean - drop["top1"]) / clean if clean else 0.0)  # 0 at 0 clean


def test_other_protocols_train_and_evaluate(trained):
    few = json.loads((trained / "metrics/few_shot.json").read_text())
    assert set(few["t2l"]["synthetic_source"]) == {"k1", "k2"} and "vanilla" in few
    b2n = json.loads((trained / "metrics/base2novel.json").read_text())["t2l"]["synthetic_source"]
    assert {"base_top1", "novel_top1", "hm"} <= set(b2n)
    sup = json.loads((trained / "metrics/fully_supervised.json").read_text())["t2l"]["synthetic_source"]
    assert {"top1", "top5"} <= set(sup)


def test_aggregates_follow_the_protocol_definitions():
    ref = lambda name, group: SplitRef(name, "d", None, None, group)  # noqa: E731
    from t2l.data.protocols.reader import Run

    b2n_runs = [Run("base2novel", f"ucf101/seed{s}", ref("train", ""), None,
                    (ref("ucf101/base", "base"), ref("ucf101/novel", "novel"))) for s in (0, 1)]
    results = {"ucf101/seed0": {"ucf101/base": {"top1": 0.8}, "ucf101/novel": {"top1": 0.4}},
               "ucf101/seed1": {"ucf101/base": {"top1": 0.6}, "ucf101/novel": {"top1": 0.6}}}
    out = aggregate.base2novel(b2n_runs, results)["ucf101"]
    assert out["base_top1"] == pytest.approx(0.7) and out["novel_top1"] == pytest.approx(0.5)
    assert out["hm"] == pytest.approx(2 * 0.7 * 0.5 / 1.2)
    zs_runs = [Run("zero_shot", "main", ref("train", ""), None, tuple(ref(f"ucf101/test{i}", "ucf101") for i in (1, 2, 3)))]
    zs = aggregate.zero_shot(zs_runs, {"main": {f"ucf101/test{i}": {"top1": v, "top5": 1.0} for i, v in
                                                 zip((1, 2, 3), (0.5, 0.6, 0.7))}})["ucf101"]
    assert zs["top1_mean"] == pytest.approx(0.6) and zs["top1_std"] == pytest.approx(0.1)  # sample std


def test_an_evaluation_scores_another_protocols_models_only_where_they_trained_on_its_split(trained, tmp_path):
    params = yaml.safe_load((trained / "params.yaml").read_text())
    assert params["evaluations"]["fully_supervised"] == "zero_shot"  # the same train split: the zero-shot model
    sup = json.loads((trained / "metrics/fully_supervised.json").read_text())
    assert sup["t2l"]["synthetic_source"]["videos"] == len(pd.read_csv(trained / "data/protocols/fully_supervised/"
                                                                                 "synthetic_source/test.csv"))
    params["evaluations"]["few_shot"] = "zero_shot"  # k-shot subsets: no zero-shot run trained on them
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = run_t2l("evaluate", "--protocol", "few_shot", "--params", str(tmp_path / "params.yaml"),
                   "--out", str(tmp_path / "fs.json"), cwd=trained, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "evaluations.few_shot: no zero_shot run trained on the rows of" in proc.stderr and "train.csv" in proc.stderr
    assert not (tmp_path / "fs.json").exists()


def test_a_frozen_stem_runs_once_per_clip_and_changes_no_number(trained, tmp_path, monkeypatch):
    """Without augmentation training embeds each train and val clip once, and evaluation embeds a
    split once for every model sharing the frozen stem: the numbers of embedding on every pass."""
    import numpy as np

    from t2l.evaluate.stage import EvaluateConfig, Evaluator
    from t2l.frames.clip_spec import ClipSpec
    from t2l.jobs import jobs, model_fields
    from t2l.model.config import variant
    from t2l.model.factory import build_model, tokenizer_for
    from t2l.params import load
    from t2l.train.loop import TrainConfig, Trainer

    (run,) = read_runs(trained / "data/protocols/zero_shot")
    clip, weights_file = ClipSpec(frames=8, crop=64, short_side=64), str(trained / pretrained(trained))
    cfg = variant("t2l", backbone="t2l-tiny", pretrained=weights_file)
    trainers, histories = [], []
    for limit in (2048, 0):
        torch.manual_seed(0)
        trainer = Trainer(build_model(cfg), TrainConfig(epochs=2, batch_size=4, workers=0, flip=False, augment=False,
                                                        stem_cache_mb=limit),
                          clip, run, trained / "data/frames", {}, tokenizer_for(cfg), tmp_path / f"{limit}/last.pt")
        histories.append(trainer.fit()[2].drop(columns="clips_per_s"))
        trainers.append(trainer)
    assert len(trainers[0].inputs) == len(run.train.rows()) and len(trainers[0].val_inputs) == len(run.val.rows())
    assert trainers[1].inputs is None and trainers[1].val_inputs is None
    pd.testing.assert_frame_equal(histories[0], histories[1], rtol=1e-5)

    monkeypatch.chdir(trained)  # where the params' and the trained models' weights paths point
    p = load("params.yaml")
    evaluators = [Evaluator(EvaluateConfig(batch_size=3, workers=0, stem_cache_mb=limit), clip, model_fields(p), jobs(p),
                            trained / "data/protocols", trained / "models", trained / "data/frames",
                            trained / "data/descriptions", tmp_path / "reports") for limit in (2048, 0)]
    candidates = evaluators[0].candidates("zero_shot")
    for name in ("vanilla", "t2l"):
        model = candidates[name](run)
        cached, plain = (e.score(model, run.eval[0]) for e in evaluators)
        np.testing.assert_allclose(cached.logits, plain.logits, rtol=1e-5, atol=1e-5)
    assert len(evaluators[0].embedded) == 1 and list(evaluators[1].embedded.values()) == [None]


def _broken(descriptions: dict, how: str, cls: str) -> dict | None:
    if how == "no file":
        return None
    if how == "empty":
        return {}
    if how == "a class missing":
        return {n: d for n, d in descriptions.items() if n != cls}
    return {**descriptions, cls: descriptions[cls][0]}  # a string instead of a list


@pytest.mark.parametrize("how, message", [
    ("no file", "no such descriptions file"),
    ("empty", "no descriptions of class(es) '{cls}', "),
    ("a class missing", "no descriptions of class(es) '{cls}' "),
    ("a string", "class '{cls}': expected a non-empty list of descriptions, got str"),
])
def test_evaluation_with_broken_descriptions_stops_naming_the_file_and_class(trained, tmp_path, monkeypatch, how,
                                                                             message):
    """With evaluate.descriptions on, a class is never encoded by its name instead of its descriptions."""
    from t2l.errors import UserError
    from t2l.evaluate.stage import EvaluateConfig, Evaluator
    from t2l.frames.clip_spec import ClipSpec
    from t2l.jobs import jobs, model_fields
    from t2l.params import load

    (run,) = read_runs(trained / "data/protocols/zero_shot")
    target = run.eval[0].dataset
    good = json.loads((trained / f"data/descriptions/{target}.json").read_text())
    cls = run.eval[0].class_names()[0]
    broken = _broken(good, how, cls)
    if broken is not None:
        (tmp_path / f"{target}.json").write_text(json.dumps(broken))
    monkeypatch.chdir(trained)
    p = load("params.yaml")
    evaluator = Evaluator(EvaluateConfig(batch_size=3, workers=0), ClipSpec(frames=8, crop=64, short_side=64),
                          model_fields(p), jobs(p), trained / "data/protocols", trained / "models",
                          trained / "data/frames", tmp_path, tmp_path / "reports")
    model = evaluator.candidates("zero_shot")["vanilla"](run)
    with pytest.raises(UserError) as err:
        evaluator.score(model, run.eval[0])
    assert str(err.value).startswith(f"{tmp_path / target}.json: ") and message.format(cls=cls) in str(err.value)
    assert "\n" not in str(err.value)
    if how == "a string":  # through the CLI: one line, no traceback, nothing written
        proc = run_t2l("evaluate", "--protocol", "zero_shot", "--descriptions-dir", str(tmp_path), "--out",
                       str(tmp_path / "zs.json"), "--reports-dir", str(tmp_path / "reports"), cwd=trained, check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.strip().splitlines()[-1] == f"error: {err.value}" and not (tmp_path / "zs.json").exists()
        assert "embed" not in proc.stderr  # stopped before any clip was embedded
    evaluator = Evaluator(EvaluateConfig(batch_size=3, workers=0), ClipSpec(frames=8, crop=64, short_side=64),
                          model_fields(p), jobs(p), trained / "data/protocols", trained / "models",
                          trained / "data/frames", trained / "data/descriptions", tmp_path / "reports")
    evaluator.score(model, run.eval[0])  # complete descriptions: no error


def _trainer(project, state_path, d=None):
    from t2l.distributed import Dist
    from t2l.frames.clip_spec import ClipSpec
    from t2l.model.config import variant
    from t2l.model.factory import build_model, tokenizer_for
    from t2l.train.loop import TrainConfig, Trainer

    (run,) = read_runs(project / "data/protocols/zero_shot")
    cfg = variant("t2l", backbone="t2l-tiny", pretrained=str(project / pretrained(project)))
    return Trainer(build_model(cfg), TrainConfig(epochs=2, batch_size=4, workers=0, flip=False),
                   ClipSpec(frames=8, crop=64, short_side=64), run, project / "data/frames", {}, tokenizer_for(cfg),
                   state_path, d or Dist())


def _resume_on_rank(rank: int, project, out) -> None:
    """One of two gloo ranks, each with its own checkpoint directory (nodes without a shared disk)."""
    import torch.distributed as dist

    from t2l.distributed import Dist

    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        torch.manual_seed(rank)  # each rank starts from other weights
        trainer = _trainer(project, out / f"node{rank}/last.pt", Dist(rank, 2))
        start, best, _ = trainer._resume()
        torch.save({"start": start, "best_epoch": best["epoch"], "model": trainer.model.trainable_state_dict(),
                    "optimizer": trainer.optimizer.state_dict()["state"]}, out / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_every_rank_resumes_from_rank_zeros_checkpoint_without_a_shared_disk(trained, tmp_path, monkeypatch):
    import socket

    import torch.multiprocessing as mp

    trainer = _trainer(trained, tmp_path / "node0/last.pt")
    params = [p for p in trainer.model.parameters() if p.requires_grad]
    (sum((p ** 2).sum() for p in params)).backward()
    trainer.optimizer.step()  # an optimiser state to resume
    trainer._save(0, {"epoch": 0, "val_top1": 0.5, "weights": None}, [{"epoch": 0}])  # rank 0's node: epoch 0 done
    saved = {k: v.clone() for k, v in trainer.model.trainable_state_dict().items()}
    with torch.no_grad():
        for p in params:
            p.add_(1.0)
    trainer.state_path = tmp_path / "node1/last.pt"  # rank 1's node: a stale checkpoint, not rank 0's
    trainer._save(1, {"epoch": 1, "val_top1": 0.1, "weights": None}, [{"epoch": 0}, {"epoch": 1}])

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(port))
    mp.start_processes(_resume_on_rank, args=(trained, tmp_path), nprocs=2, start_method="spawn")
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert [r["start"] for r in ranks] == [1, 1] and [r["best_epoch"] for r in ranks] == [0, 0]
    for r in ranks:
        assert r["model"].keys() == saved.keys() and all(torch.equal(r["model"][k], saved[k]) for k in saved)
    moments = [[s["exp_avg"] for s in r["optimizer"].values()] for r in ranks]
    assert moments[0] and all(torch.equal(a, b) for a, b in zip(*moments))
