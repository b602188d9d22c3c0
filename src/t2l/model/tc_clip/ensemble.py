"""Weight-space ensembling of a fine-tuned TC-CLIP with zero-shot CLIP (WiSE-FT).

Reference (``load_checkpoint``/``wise_state_dict`` in ``utils/tools.py``): every parameter is
``(1 - w) * zero_shot + w * fine_tuned``, the zero-shot model being TC-CLIP freshly built on CLIP
(so CLIP's own weights, its q/k/v and logit scale included); the added modules (prompt vectors,
VP layer, local-global bias: ``keywords_to_exclude``) have no zero-shot value and keep their
fine-tuned weights. The reference evaluates zero-shot transfer at w = 0.7.
"""

from __future__ import annotations

import torch

from t2l.errors import UserError
from t2l.model.tc_clip.model import TCClip


def ensemble(model: TCClip, trained: dict[str, torch.Tensor], weight: float) -> dict[str, torch.Tensor]:
    """The state to load into ``model`` (freshly built, CLIP weights as pretrained) from its
    fine-tuned ``trained`` weights (a ``trainable_state_dict``) at ensemble weight ``weight``."""
    if not 0.0 <= weight <= 1.0:
        raise UserError(f"model.ensemble_weight must be in [0, 1], got {weight}")
    zero_shot = dict(model.named_parameters())
    unknown = sorted(set(trained) - set(zero_shot))
    if unknown:
        raise UserError(f"trained weights do not fit this TC-CLIP: unexpected keys {unknown[:5]}")
    return {name: value if model.is_added(name)
            else ((1 - weight) * zero_shot[name].detach() + weight * value.to(zero_shot[name].device)).to(value.dtype)
            for name, value in trained.items()}
