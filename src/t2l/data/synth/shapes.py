"""Shape outlines as polygons with unit circumradius, centred on the origin."""

from __future__ import annotations

import numpy as np


def _regular(n: int, phase: float = -np.pi / 2) -> np.ndarray:
    a = phase + 2 * np.pi * np.arange(n) / n
    return np.stack([np.cos(a), np.sin(a)], 1)


def _star(points: int = 5, inner: float = 0.45) -> np.ndarray:
    a = -np.pi / 2 + np.pi * np.arange(2 * points) / points
    r = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return np.stack([r * np.cos(a), r * np.sin(a)], 1)


def _cross(arm: float = 0.34) -> np.ndarray:
    w, o = arm, 1.0 / np.sqrt(1 + arm**2)
    pts = [(w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w), (-w, -1)]
    return np.asarray(pts, dtype=float) * o


def _heart(n: int = 48) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    pts = np.stack([x, y], 1)
    pts -= pts.mean(0)
    return pts / np.linalg.norm(pts, axis=1).max()


SHAPES: dict[str, np.ndarray] = {
    "square": _regular(4, np.pi / 4),
    "triangle": _regular(3),
    "pentagon": _regular(5),
    "hexagon": _regular(6),
    "star": _star(),
    "cross": _cross(),
    "heart": _heart(),
    "diamond": _regular(4) * np.array([0.62, 1.0]),
}


def outline(name: str, cx: float, cy: float, radius: float, angle: float) -> np.ndarray:
    """Vertices (V, 2) in pixel coordinates of shape ``name`` rotated by ``angle`` radians."""
    if name not in SHAPES:
        raise ValueError(f"unknown shape {name!r}; known: {', '.join(SHAPES)}")
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return SHAPES[name] @ rot.T * radius + np.array([cx, cy])
