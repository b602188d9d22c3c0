"""Motions in time-reversed pairs.

Each pair has a *forward* motion whose trajectories are sampled here; the second motion of the
pair is the exact time reversal of a forward clip. Every single frame of either motion is thus
drawn from the same distribution, and only the order of frames tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# forward motion -> its time reversal
PAIRS: dict[str, str] = {
    "moving left": "moving right",
    "moving up": "moving down",
    "rotating clockwise": "rotating counterclockwise",
    "growing": "shrinking",
}
REVERSAL = {**PAIRS, **{v: k for k, v in PAIRS.items()}}


def reversal_partner(class_name: str) -> str | None:
    """``"star moving left"`` -> ``"star moving right"``; None for a name without a motion."""
    for motion, reverse in REVERSAL.items():
        if class_name.endswith(" " + motion):
            return class_name[: -len(motion)] + reverse
    return None


@dataclass(frozen=True)
class Trajectory:
    """Per-frame centre (pixels), rotation (radians, image coordinates) and radius (pixels)."""

    cx: np.ndarray
    cy: np.ndarray
    angle: np.ndarray
    radius: np.ndarray

    def frame(self, t: int) -> "Trajectory":
        """The one-frame trajectory at time ``t``."""
        return Trajectory(self.cx[t:t + 1], self.cy[t:t + 1], self.angle[t:t + 1], self.radius[t:t + 1])


def sample_forward(motion: str, frames: int, size: int, radius_range: tuple[float, float], rng: np.random.Generator) -> Trajectory:
    """Sample a trajectory of the forward ``motion`` of a pair with random speed and start."""
    if motion not in PAIRS:
        raise ValueError(f"{motion!r} is not a forward motion; forward motions: {', '.join(PAIRS)}")
    u = np.linspace(0.0, 1.0, frames)
    r0 = rng.uniform(*radius_range) * size
    radius = np.full(frames, r0)
    angle = np.full(frames, rng.uniform(0, 2 * np.pi))
    margin = 1.05 * r0
    cx = np.full(frames, rng.uniform(margin, size - margin))
    cy = np.full(frames, rng.uniform(margin, size - margin))
    if motion in ("moving left", "moving up"):
        span = size - 2 * margin
        dist = rng.uniform(0.45, 1.0) * span
        start = rng.uniform(margin + dist, size - margin)
        track = start - dist * u
        if motion == "moving left":
            cx = track
        else:
            cy = track
    elif motion == "rotating clockwise":
        # 60-150 degrees in all: at most ~19 degrees between 8 sampled frames, below half the
        # smallest symmetry angle of any shape (60 degrees for the hexagon), so never aliased.
        angle = angle + np.deg2rad(rng.uniform(60, 150)) * u
    elif motion == "growing":
        # the sampled radius is the geometric middle of a 1.6-2.2x growth
        half = np.sqrt(rng.uniform(1.6, 2.2))
        radius = r0 / half * half ** (2 * u)
        lim = min(1.05 * r0 * half, size / 2)
        cx = np.full(frames, rng.uniform(lim, size - lim))
        cy = np.full(frames, rng.uniform(lim, size - lim))
    return Trajectory(cx, cy, angle, radius)
