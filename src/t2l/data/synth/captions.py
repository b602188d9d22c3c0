"""Captions of single frames, worded as web captions word a photo: what, what colour, where, how big.

Real CLIP learned from captions that say where things are and how big they are, the primitives
motion is made of; the world's captions do the same and never name a motion. Every caption word
is in the stand-in CLIP's vocabulary (``t2l.model.configs``), as are the description words.
"""

from __future__ import annotations

import numpy as np

# where the shape's centre is (rows top to bottom, columns left to right): the middle fifth of
# the frame is the middle, as people judge "at the left" relative to the frame's centre
ROWS, COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")
POSITION_EDGES = (0.4, 0.6)  # centre / frame side between the position words
SIZES = ("small", "medium", "large")
SIZE_EDGES = (0.2, 0.26)  # radius / frame side between the size words
ATTRIBUTES = ("shape", "colour", "background", "position", "size")


def position_word(cx: float, cy: float, size: int) -> str:
    """``"top left"``, ``"top"``, ..., ``"centre"``, ..., ``"bottom right"``."""
    row = ROWS[int(np.searchsorted(POSITION_EDGES, cy / size, side="right"))]
    col = COLUMNS[int(np.searchsorted(POSITION_EDGES, cx / size, side="right"))]
    if row == "middle":
        return col
    return row if col == "centre" else f"{row} {col}"


POSITIONS = tuple(position_word(x, y, 1) for y in (0.2, 0.5, 0.8) for x in (0.2, 0.5, 0.8))


def size_word(radius: float, size: int) -> str:
    return SIZES[int(np.searchsorted(SIZE_EDGES, radius / size, side="right"))]


def where(position: str) -> str:
    """``"at the top left"``, ``"in the centre"``."""
    return "in the centre" if position == "centre" else f"at the {position}"


def full_caption(a: dict[str, str]) -> str:
    """The canonical caption naming every attribute (the zero-shot check's wording)."""
    return f"a {a['size']} {a['colour']} {a['shape']} {where(a['position'])} on a {a['background']} background"


def caption(a: dict[str, str], rng: np.random.Generator) -> tuple[str, frozenset[str]]:
    """A caption of attributes ``a`` and the attributes it names: the full one half of the time,
    else a shorter one that leaves some unsaid and orders them otherwise, as people write."""
    if rng.random() < 0.5:
        return full_caption(a), frozenset(ATTRIBUTES)
    keep = {k for k in ("size", "colour", "position", "background") if rng.random() < 0.6}
    noun = " ".join([a[k] for k in ("size", "colour") if k in keep] + [a["shape"]])
    parts = [f"a {noun}"]
    tail = [where(a["position"]) if "position" in keep else "",
            f"on a {a['background']} background" if "background" in keep else ""]
    if rng.random() < 0.5:
        tail.reverse()
    return " ".join(parts + [t for t in tail if t]), frozenset(keep | {"shape"})
