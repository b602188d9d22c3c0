"""CLIP backbones through open_clip: by name with a pretrained tag, or from a local checkpoint.

The embedded default's small configs (``configs/*.json``, open_clip's own schema) are
registered with open_clip on import, so ``t2l-tiny`` is created like any built-in model.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import open_clip
import torch
from torch import nn

from t2l.errors import UserError
from t2l.fsio import read_json
from t2l.model.words import WordTokenizer

CONFIG_DIR = Path(__file__).parent / "configs"
open_clip.add_model_config(CONFIG_DIR)

# Convolutional stems ("early convolutions help transformers see better", Xiao et al. 2021) for
# the tiny backbones that learn from scratch on a CPU; open_clip's JSON schema has no field for
# them. (channels, stride) of each 3x3 convolution before the final patch projection.
CONV_STEMS: dict[str, tuple[tuple[int, int], ...]] = {
    "t2l-tiny": ((32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1)),
}


def conv_stem(patch_size: int, width: int, layers: tuple[tuple[int, int], ...]) -> nn.Sequential:
    """A stem with the same output grid as a ``patch_size`` patchify convolution."""
    modules, c_in, stride = [], 3, 1
    for c, s in layers:
        # GroupNorm, not BatchNorm: no running statistics that a frozen backbone could drift
        modules += [nn.Conv2d(c_in, c, 3, stride=s, padding=1, bias=False), nn.GroupNorm(8, c), nn.GELU()]
        c_in, stride = c, stride * s
    rest = patch_size // stride
    if rest * stride != patch_size:
        raise ValueError(f"conv stem strides {stride} do not divide the patch size {patch_size}")
    modules.append(nn.Conv2d(c_in, width, rest, stride=rest, bias=False))
    return nn.Sequential(*modules)


def read_state_dict(path: Path, mmap: bool = False) -> dict[str, torch.Tensor]:
    """The state dict in a weights file (loaded with ``weights_only``; a checkpoint's ``state_dict``
    unwrapped, DataParallel's ``module.`` prefix removed); UserError naming the file otherwise."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError:  # torch's message would suggest loading it unsafely
        raise UserError(f"{path}: holds Python objects besides tensors, which loading could run as code; "
                        f"refused (only plain state dicts of tensors are loaded)") from None
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's input error
        raise UserError(f"{path}: not a loadable weights file ({type(e).__name__}: {e})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UserError(f"{path}: expected a state dict, found {type(state).__name__}")
    return {k.removeprefix("module."): v for k, v in state.items()}


def create_clip(name: str, pretrained: str | None = None, cache_dir: str | None = None,
                quick_gelu: bool | None = None) -> open_clip.CLIP:
    """A CLIP model from open_clip.

    ``pretrained``: None (random init), an open_clip tag (``openai``, ``laion2b_s34b_b88k``...,
    downloaded into ``cache_dir``) or the path of a state-dict file (loaded with
    ``weights_only=True``, strictly). ``quick_gelu``: OpenAI's weights were trained with
    QuickGELU; None turns it on for the ``openai`` tag, and for a file as its sidecar
    (``t2l.model.weights``) records (``-quickgelu`` model names also work).
    """
    if name not in open_clip.list_models():
        raise UserError(f"unknown backbone {name!r}; open_clip knows e.g. ViT-B-32, ViT-B-16, ViT-L-14, t2l-tiny")
    path = Path(pretrained) if pretrained and (Path(pretrained).suffix or "/" in pretrained) else None
    if path is not None and not path.is_file():
        raise UserError(f"{pretrained}: no such weights file")
    quick_gelu = needs_quick_gelu(pretrained, quick_gelu)
    silenced = logging.root.manager.disable  # a caller's silence (e.g. `t2l info`) outlasts this call
    if path is not None:
        logging.disable(logging.WARNING)  # open_clip warns "no pretrained weights"; we load them next
    try:
        model = open_clip.create_model(name, pretrained=None if path else pretrained, cache_dir=cache_dir,
                                       force_quick_gelu=quick_gelu)
    finally:
        logging.disable(silenced)
    if name in CONV_STEMS:
        v = model.visual
        v.conv1 = conv_stem(v.patch_size[0], v.conv1.out_channels, CONV_STEMS[name])
    if path is not None:
        missing, unexpected = model.load_state_dict(read_state_dict(path), strict=False)
        if missing or unexpected:
            raise UserError(f"{path}: does not match backbone {name}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model


def needs_quick_gelu(pretrained: str | None, quick_gelu: bool | None = None) -> bool:
    """``quick_gelu`` if given; else on for the ``openai`` tag, and for a weights file as the
    ``weights`` stage recorded beside it (``<file>.json``)."""
    if quick_gelu is not None:
        return quick_gelu
    meta = Path(pretrained).with_suffix(".json") if pretrained and Path(pretrained).is_file() else None
    if meta is not None:
        return bool(meta.is_file() and read_json(meta).get("quick_gelu"))
    return pretrained == "openai"


def tokenizer(name: str):
    """open_clip's tokenizer for ``name``, or the word tokenizer of a backbone that ships a
    vocabulary (``configs/<name>.vocab.txt``); texts longer than the context are truncated."""
    vocabulary = CONFIG_DIR / f"{name}.vocab.txt"
    if vocabulary.is_file():
        context = open_clip.get_model_config(name)["text_cfg"]["context_length"]
        return WordTokenizer.from_file(vocabulary, context)
    return open_clip.get_tokenizer(name)
