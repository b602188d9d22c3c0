"""TC-CLIP's options, with the reference's defaults (``configs/trainer/tc_clip.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from t2l.errors import UserError


@dataclass(frozen=True)
class TCClipOptions:
    # text side: video-conditional prompting
    n_ctx: int = 4  # learnable prompt words after the start token; 0: the class texts as given
    ctx_init: str = "a photo of a"  # words the prompt vectors start from ("": random, std 0.02)
    video_prompting: bool = True  # VP: prompt words attend to the video's context tokens before the last text block
    vp_init: str = "clip"  # "clip": a copy of the last text block; "random"
    image_stop_grad: bool = True  # VP reads the vision tokens without back-propagating into the vision tower
    text_context: int = 30  # text positions used, at most the backbone's context length
    class_text: str = "given"  # "given": the stage's class texts (descriptions or the name templates);
    # "reference": the reference's "{name}." after CamelCase/underscore cleaning, behind the prompt words
    # vision side: temporal contextualization
    context_tokens: int = 96  # k per video; 0: frame-wise attention (no temporal contextualization)
    seed_ratio: float = 0.3  # a: seeds per frame = int(a * patches), by head-averaged CLS attention
    tome_r: int = 100  # tokens removed per bipartite matching step
    tome_d: float = 0.0  # inflection of r over the layers (ToMe): 0 constant, -1 decreasing, +1 increasing
    local_global_bias: bool = True  # learnable per-head bias on frame keys vs context keys, blocks 2..L
    # training
    lr_10x: float = 10.0  # learning-rate multiplier of the prompt vectors and the VP layer; 1: off
    label_smoothing: float = 0.1

    def __post_init__(self):
        def need(ok: bool, field: str, rule: str):
            if not ok:
                raise UserError(f"model.tc_clip.{field} {rule}, got {getattr(self, field)!r}")

        need(self.n_ctx >= 0, "n_ctx", "must be >= 0")
        need(not self.video_prompting or self.n_ctx > 0, "n_ctx", "must be > 0 with video_prompting")
        need(self.vp_init in ("clip", "random"), "vp_init", "must be 'clip' or 'random'")
        need(self.class_text in ("given", "reference"), "class_text", "must be 'given' or 'reference'")
        need(self.text_context >= 2 + self.n_ctx, "text_context", "must hold start, prompt words and end")
        need(self.context_tokens >= 0, "context_tokens", "must be >= 0")
        need(0 < self.seed_ratio <= 1, "seed_ratio", "must be in (0, 1]")
        need(self.tome_r >= 1, "tome_r", "must be >= 1")
        need(-1 <= self.tome_d <= 1, "tome_d", "must be in [-1, 1]")
        need(self.lr_10x > 0, "lr_10x", "must be > 0")
        need(0 <= self.label_smoothing < 1, "label_smoothing", "must be in [0, 1)")
