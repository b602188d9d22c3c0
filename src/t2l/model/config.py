"""One dataclass configures every model; the paper's baselines and ablations are named presets."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Literal

from t2l.errors import UserError
from t2l.model.alt.options import ALTOptions
from t2l.model.tc_clip.options import TCClipOptions
from t2l.params import Count, Fraction, NonNegative, NonNegativeFloat, Positive, Range, parse


@dataclass(frozen=True)
class ModelConfig:
    family: str = "t2l"  # which architecture (t2l.model.factory.FAMILIES): t2l covers vanilla, T2L and ViFi-CLIP
    backbone: str = "ViT-B-16"
    pretrained: str | None = None  # open_clip tag (downloaded to cache_dir) or a state-dict file
    cache_dir: str | None = None
    quick_gelu: bool | None = None  # None: on for OpenAI weights (they were trained with QuickGELU)
    frames: Count = 8
    temporal_tokens: bool = True  # Temporal Token Learning
    temporal_layers: NonNegative = 0  # layers that get tokens, from the first; 0 = every layer
    token_dropout: Fraction = 0.1
    spatial_adapters: bool = True
    text_adapters: bool = True
    adapter_ratio: Positive = 0.25  # bottleneck width / model width
    finetune_clip: bool = False  # ViFi-CLIP: train every CLIP weight, frame average
    ensemble_weight: Annotated[float, Range(at_least=0, at_most=1)] = 1.0  # at load: (1-w)*clip + w*finetuned (WSE)
    decay_policy: Literal["layer_weights", "matrices", "all"] = "layer_weights"  # what weight decay applies to (t2l.model.decay)
    contrastive: Literal["ce", "kl"] = "ce"  # "ce": all class texts of the dataset; "kl": the reference's symmetric KL
    contrastive_weight: NonNegativeFloat = 1.0  # lambda_1
    tfd_weight: NonNegativeFloat = 1.0  # lambda_2; 0 disables the Temporal Feature Diversity loss
    grad_checkpointing: bool = False
    tc_clip: TCClipOptions = field(default_factory=TCClipOptions)  # family tc_clip only
    alt: ALTOptions = field(default_factory=ALTOptions)  # family alt only

    def __post_init__(self):
        if self.finetune_clip and (self.temporal_tokens or self.spatial_adapters or self.text_adapters):
            raise UserError("model.finetune_clip (ViFi-CLIP) trains CLIP itself: turn temporal tokens and adapters off")


_FINETUNED = dict(temporal_tokens=False, spatial_adapters=False, text_adapters=False, tfd_weight=0.0, finetune_clip=True)
_TC_CLIP = dict(family="tc_clip", **_FINETUNED, decay_policy="all")  # its reference decays every trained parameter
_ALT = dict(family="alt", **_FINETUNED, decay_policy="matrices")  # X-CLIP's rule, whose recipe the paper follows

# The paper's model, its ablations (Tables 7-8) and the baselines it is compared with.
VARIANTS: dict[str, dict] = {
    "vanilla": dict(temporal_tokens=False, spatial_adapters=False, text_adapters=False, tfd_weight=0.0),
    "adapters": dict(temporal_tokens=False, tfd_weight=0.0),
    "tfd": dict(temporal_tokens=False),
    "ttl": dict(tfd_weight=0.0),
    "ttl_first_layer": dict(temporal_layers=1),
    "t2l": dict(),
    "vifi": dict(**_FINETUNED, decay_policy="all"),  # its reference's AdamW decays every parameter
    # TC-CLIP (Kim et al. 2024): all of CLIP fine-tuned
    "tc_clip": dict(_TC_CLIP),
    "tc_clip_no_context": dict(_TC_CLIP, tc_clip=dict(context_tokens=0)),
    "tc_clip_no_vp": dict(_TC_CLIP, tc_clip=dict(video_prompting=False, n_ctx=0)),
    # ALT (Chen et al. 2024): region-aware ViT fine-tuned at a tenth of the rate, entity-aligned queries, video decoder
    "alt": dict(_ALT),
    "alt_no_tome": dict(_ALT, alt=dict(r=0, align_regions=False)),  # Table 8, r = 0
    "alt_no_region": dict(_ALT, alt=dict(align_regions=False)),  # Table 5, CLS aligned only
    "alt_no_align": dict(_ALT, alt=dict(queries="learned")),  # Table C3, learnable queries
}

# Weight-space ensembling with zero-shot CLIP (WiSE-FT) as TC-CLIP's zero-shot protocol applies it: the
# zero-shot evaluation scores a fine-tuned variant's trained weights as themselves and, as the variant
# "<name>_wse", interpolated at w (TC-CLIP's Appendix E: 0.7; ViFi-CLIP in its comparison); no other
# protocol ensembles.
WSE = "_wse"
ENSEMBLES = {"vifi": 0.5, "tc_clip": 0.7, "tc_clip_no_context": 0.7, "tc_clip_no_vp": 0.7}
VARIANTS.update({name + WSE: dict(VARIANTS[name], ensemble_weight=w) for name, w in ENSEMBLES.items()})


def variant(name: str, **fields) -> ModelConfig:
    """Preset ``name`` on top of shared ``fields`` (backbone, frames, loss weights...).

    The preset decides which parts are on (tokens, adapters, TFD, fine-tuning), so a shared
    ``tfd_weight`` applies only to variants that use TFD; a preset's nested options (a dict)
    change only the options they name.
    """
    if name not in VARIANTS:
        raise UserError(f"unknown model variant {name!r}; known: {', '.join(VARIANTS)}")
    base = parse(ModelConfig, fields, "model")
    preset = {k: replace(getattr(base, k), **v) if isinstance(v, dict) else v for k, v in VARIANTS[name].items()}
    return replace(base, **preset)
