"""Which trained parameters each family decays at ViT-B/16 (random init, no download), as each
method's reference does; T2L's optimiser groups as they always were; `t2l info` prints the counts."""

import json
import logging

import pytest
import torch
from helpers import run_t2l

from t2l.model.config import variant
from t2l.model.decay import decay_counts, decays
from t2l.model.factory import build_model
from t2l.train.optim import param_groups


def vit_b16(name: str):
    torch.manual_seed(0)
    logging.disable(logging.WARNING)
    try:
        return build_model(variant(name, backbone="ViT-B-16", frames=8))
    finally:
        logging.disable(logging.NOTSET)


@pytest.fixture(scope="module", params=["t2l", "vifi", "tc_clip", "alt"])
def family(request):
    model = vit_b16(request.param)
    return request.param, model, decays(model, model.cfg.decay_policy)


PACKED = ("clip.visual.transformer.resblocks.0.attn.in_proj_weight", "clip.visual.proj")


def test_which_parameters_decay_at_vit_b16(family):
    name, model, flags = family
    decayed = {n for n, d in flags.items() if d}
    undecayed = set(flags) - decayed
    if name == "t2l":  # the adapters' weight matrices; the tokens and every bias stay undecayed
        assert decayed == {n for n in flags if "adapters." in n and n.endswith(".weight")} and len(decayed) == 48
        assert undecayed == {"temporal.tokens"} | {n for n in flags if n.endswith(".bias")}
        assert decay_counts(model) == {"policy": "layer_weights", "decayed": 5_111_808, "undecayed": 92_928}
    elif name in ("vifi", "tc_clip"):  # the references' AdamW over every parameter
        assert not undecayed and {*PACKED, "clip.text_projection", "clip.logit_scale", "clip.ln_final.bias"} <= decayed
        assert decay_counts(model) == {"policy": "all", "decayed": 149_620_737 if name == "vifi" else 127_479_561,
                                       "undecayed": 0}
        assert ("clip.token_embedding.weight" in flags) == (name == "vifi")  # TC-CLIP keeps it frozen
    else:  # ALT, X-CLIP's rule: every matrix but the embeddings
        assert {*PACKED, "decoder.blocks.0.self_attention.in_proj_weight", "decoder.blocks.3.conv.weight",
                "query.mlp.0.weight"} <= decayed and len(decayed) == 74
        assert undecayed == {"clip.visual.positional_embedding", "clip.visual.class_embedding"} | {
            n for n in flags if model.get_parameter(n).ndim == 1}
        assert decay_counts(model) == {"policy": "matrices", "decayed": 124_715_008, "undecayed": 308_736}


def test_optimiser_groups_follow_the_policy_and_t2l_keeps_its_groups(family):
    name, model, flags = family
    groups = param_groups(model, 0.2, 1e-3, token_lr_scale=10.0, decay_policy=model.cfg.decay_policy)
    by_id = {id(p): n for n, p in model.named_parameters()}
    for group in groups:
        assert {flags[by_id[id(p)]] for p in group["params"]} == {group["weight_decay"] > 0}
    if name == "t2l":  # tokens at 10x undecayed, then the adapters' weights decayed, then their biases
        assert [(g["weight_decay"], g["lr"], len(g["params"])) for g in groups] == [(0.0, 1e-2, 1), (0.2, 1e-3, 48),
                                                                                    (0.0, 1e-3, 48)]
        assert [by_id[id(p)] for p in groups[1]["params"]][:2] == ["spatial_adapters.0.fc1.weight",
                                                                    "spatial_adapters.0.fc2.weight"]


def test_info_prints_the_decay_counts_and_runs_alt_without_a_corpus():
    proc = run_t2l("info", "--model", "alt", "--backbone", "t2l-tiny", "--frames", "4", "--entities", "50")
    out = json.loads(proc.stdout)
    assert out["weight_decay"]["policy"] == "matrices" and out["entities"] == 50
    assert out["weight_decay"]["decayed"] + out["weight_decay"]["undecayed"] == out["parameters"]["trainable"]
    assert out["gflops_per_clip"] > 0 and "initialized randomly" not in proc.stderr
