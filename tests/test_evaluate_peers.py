"""The compared methods evaluated as their papers do: weight-space ensembling only at zero-shot and
reported beside the fine-tuned model, ALT's corpus expanded with each zero-shot target's labels."""

import logging

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import pytest
import torch
import yaml

from t2l.evaluate.stage import EvaluateConfig, Evaluator
from t2l.jobs import Job, clip_spec, model_fields
from t2l.model.config import ENSEMBLES, WSE, variant
from t2l.model.factory import build_model
from t2l.model.trained import save_model

TC_CLIP = {"tc_clip": {"context_tokens": 24}}
ALT = {"alt": {"entity_texts": ("star: a five-pointed star shape",), "decoder_blocks": 1}}


def fine_tuned(name: str, fields: dict, seed: int = 0) -> tuple:
    """``name``'s config and weights as if trained: every trained weight moved off its start."""
    torch.manual_seed(seed)
    logging.disable(logging.WARNING)
    try:
        cfg = variant(name, **fields)
        weights = build_model(cfg).trainable_state_dict()
    finally:
        logging.disable(logging.NOTSET)
    g = torch.Generator().manual_seed(seed + 1)
    return cfg, {k: v + 0.05 * torch.randn(v.shape, generator=g) if v.is_floating_point() and k != "entity_embeddings"
                 else v for k, v in weights.items()}


def evaluator(models, project, tmp_path, jobs, **settings) -> Evaluator:
    params = yaml.safe_load((project / "params.yaml").read_text())
    cfg = EvaluateConfig(baselines=(), batch_size=3, workers=0, **settings)
    return Evaluator(cfg, clip_spec(params), model_fields(params), jobs, project / "data/protocols", models,
                     project / "data/frames", project / "data/descriptions", tmp_path / "reports")


def test_only_the_zero_shot_evaluation_adds_the_weight_space_ensemble_of_a_fine_tuned_model(tmp_path):
    logging.disable(logging.WARNING)
    try:
        clip = build_model(variant("vanilla", backbone="t2l-tiny", frames=4)).clip.state_dict()
    finally:
        logging.disable(logging.NOTSET)
    torch.save(clip, tmp_path / "clip.pt")  # zero-shot CLIP, the ensemble's other end
    cfg, weights = fine_tuned("tc_clip", {"backbone": "t2l-tiny", "frames": 4, "pretrained": str(tmp_path / "clip.pt"),
                                          **TC_CLIP})
    assert cfg.ensemble_weight == 1.0 and variant("tc_clip" + WSE).ensemble_weight == ENSEMBLES["tc_clip"] == 0.7
    save_model(tmp_path / "models/zero_shot/zs-tc_clip/main", cfg, weights)
    e = Evaluator(EvaluateConfig(baselines=()), clip_spec({}), {}, {"zs-tc_clip": Job("zero_shot", "tc_clip")},
                  tmp_path, tmp_path / "models", tmp_path, tmp_path, tmp_path)
    run = type("Run", (), {"name": "main"})
    assert set(e.candidates("zero_shot")) == {"tc_clip"}  # base-to-novel, few-shot, fully supervised: no ensemble
    found = e.candidates("zero_shot", ensembles=True)
    assert set(found) == {"tc_clip", "tc_clip_wse"}
    plain, ensembled = (found[name](run).state_dict() for name in ("tc_clip", "tc_clip_wse"))
    key = "clip.visual.transformer.resblocks.1.attn.in_proj_weight"
    assert torch.equal(plain[key], weights[key])  # the fine-tuned weights alone
    expected = 0.3 * clip[key.removeprefix("clip.")] + 0.7 * weights[key]
    assert torch.allclose(ensembled[key], expected, atol=1e-6)
    assert torch.equal(ensembled["prompt_vectors"], weights["prompt_vectors"])  # added modules keep their weights


@pytest.mark.timeout(600)
def test_zero_shot_rows_and_notes_of_tc_clip_and_alt(retrained, tmp_path, monkeypatch):
    project = retrained.project
    monkeypatch.chdir(project)  # where the params' stand-in path points
    params = yaml.safe_load((project / "params.yaml").read_text())
    fields = model_fields(params)
    jobs = {"zs-tc_clip": Job("zero_shot", "tc_clip"), "zs-alt": Job("zero_shot", "alt")}
    for job, extra in (("zs-tc_clip", TC_CLIP), ("zs-alt", ALT)):
        save_model(tmp_path / "models/zero_shot" / job / "main", *fine_tuned(jobs[job].model, {**fields, **extra}))
    metrics = evaluator(tmp_path / "models", project, tmp_path, jobs, target_entities=True).evaluate("zero_shot", "zero_shot")
    assert set(metrics) == {"tc_clip", "tc_clip_wse", "alt", "notes"}
    target = lambda name: metrics[name]["synthetic_target"]["logit_std_mean"]  # noqa: E731
    assert target("tc_clip") != target("tc_clip_wse")
    notes = metrics["notes"]
    assert "tc_clip_wse w = 0.7" in notes["weight_space_ensembling"] and notes["entities"].startswith("alt:")
    assert notes["views"] == "1 clip(s) x 1 crop(s), logits averaged"
    plain = evaluator(tmp_path / "models", project, tmp_path, {"zs-alt": jobs["zs-alt"]}).evaluate("zero_shot", "zero_shot")
    assert "entities" not in plain["notes"] and "weight_space_ensembling" not in plain["notes"]
    assert plain["alt"]["source_val"] == metrics["alt"]["source_val"]  # the source keeps the trained corpus
    assert plain["alt"]["synthetic_target"] != metrics["alt"]["synthetic_target"]  # the target's labels are entities
    sup = evaluator(tmp_path / "models", project, tmp_path, jobs, target_entities=True).evaluate("fully_supervised",
                                                                                                 "zero_shot")
    assert set(sup) == {"tc_clip", "alt", "notes"} and set(sup["notes"]) == {"std", "frames", "views"}
