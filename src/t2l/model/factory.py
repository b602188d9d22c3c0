"""Build a model of any family from its config, and restore one from trained weights."""

from __future__ import annotations

import torch

from t2l.errors import UserError
from t2l.model.alt.model import ALT
from t2l.model.backbone import create_clip, tokenizer
from t2l.model.config import ModelConfig
from t2l.model.t2l import T2L
from t2l.model.tc_clip.model import TCClip
from t2l.model.tc_clip.prompts import class_name_prompts
from t2l.model.text import ClassPrompts

# family name -> class taking (open_clip CLIP, ModelConfig); see t2l.model.family for the interface
FAMILIES = {"t2l": T2L, "tc_clip": lambda clip, cfg: TCClip(clip, cfg, cfg.tc_clip),
            "alt": lambda clip, cfg: ALT(clip, cfg, cfg.alt)}


def build_model(cfg: ModelConfig):
    """CLIP weights as ``cfg.pretrained`` says, plus the family's freshly initialised parts."""
    if cfg.family not in FAMILIES:
        raise UserError(f"model.family: unknown family {cfg.family!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[cfg.family](create_clip(cfg.backbone, cfg.pretrained, cfg.cache_dir, cfg.quick_gelu), cfg)


def load_trained(cfg: ModelConfig, trained: dict[str, torch.Tensor]):
    """A model with ``trained`` (a trainable_state_dict) loaded on top of the CLIP weights.

    A fine-tuned CLIP (ViFi-CLIP, TC-CLIP) is ensembled with zero-shot CLIP in weight space
    (WiSE-FT, as TC-CLIP's scripts do) where ``cfg.ensemble_weight`` w is below 1 (the ``_wse``
    variants; the zero-shot evaluation's ``<variant>_wse`` rows): theta = (1 - w) * theta_clip +
    w * theta_finetuned for every weight of the wrapped CLIP; modules a family adds to CLIP have
    no zero-shot value and keep their trained weights.
    """
    model = build_model(cfg)
    state = model.state_dict()
    unknown = sorted(set(trained) - set(state))
    if unknown:
        raise UserError(f"trained weights do not fit model {cfg.backbone}: unexpected keys {unknown[:5]}")
    w = cfg.ensemble_weight if cfg.finetune_clip else 1.0
    if not 0.0 <= w <= 1.0:
        raise UserError(f"model.ensemble_weight must be in [0, 1], got {w}")
    merged = {k: (1 - w) * state[k] + w * v.to(state[k].dtype)
              if w != 1.0 and k.startswith("clip.") and v.is_floating_point() else v
              for k, v in trained.items()}
    missing_trainable = [n for n, p in model.named_parameters() if p.requires_grad and n not in trained]
    if missing_trainable:
        raise UserError(f"trained weights lack {missing_trainable[:5]}")
    model.load_state_dict(merged, strict=False)
    return model


def tokenizer_for(cfg: ModelConfig):
    return tokenizer(cfg.backbone)


def class_prompts(cfg: ModelConfig, names: list[str], tokenize, descriptions: dict[str, list[str]] | None = None
                  ) -> ClassPrompts:
    """The class texts ``cfg``'s model reads: TC-CLIP's reference text where ``model.tc_clip.class_text``
    is ``reference``, else ``descriptions`` where given and the template ensemble otherwise."""
    if cfg.family == "tc_clip" and cfg.tc_clip.class_text == "reference":
        return class_name_prompts(names, tokenize)
    return ClassPrompts.from_names(names, tokenize, descriptions)
