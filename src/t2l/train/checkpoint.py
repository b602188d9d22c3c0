"""Atomic training checkpoints: weights, optimiser, scheduler, scaler, RNG states, progress.

Everything is stored as tensors and plain Python data, so checkpoints load with
``torch.load(weights_only=True)`` like any file a user may hand us.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from t2l.fsio import save_torch


def rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, py_gauss = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)},
             "python": {"version": version, "internal": list(internal), "gauss": py_gauss}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | Path, **state) -> None:
    """Write ``state`` to ``path`` via temp file + rename: a kill never leaves half a checkpoint."""
    save_torch(path, state)


def load(path: str | Path) -> dict | None:
    """The checkpoint at ``path`` (``weights_only=True``), or None if there is none."""
    path = Path(path)
    return torch.load(path, map_location="cpu", weights_only=True) if path.is_file() else None
