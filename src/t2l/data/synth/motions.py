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

# How each motion looks, in the words of the world's captions (where, how big) wherever a
# single frame can show it: the embedded world's stand-in for the LLM's class descriptions.
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "moving left": ("a {shape} that starts at the right and ends at the left",
                    "a {shape} moving from the right to the left",
                    "the {shape} is at the right first and at the left last",
                    "a {shape} going left across the frame"),
    "moving right": ("a {shape} that starts at the left and ends at the right",
                     "a {shape} moving from the left to the right",
                     "the {shape} is at the left first and at the right last",
                     "a {shape} going right across the frame"),
    "moving up": ("a {shape} that starts at the bottom and ends at the top",
                  "a {shape} moving from the bottom to the top",
                  "the {shape} is at the bottom first and at the top last",
                  "a {shape} going up the frame"),
    "moving down": ("a {shape} that starts at the top and ends at the bottom",
                    "a {shape} moving from the top to the bottom",
                    "the {shape} is at the top first and at the bottom last",
                    "a {shape} going down the frame"),
    "rotating clockwise": ("a {shape} turning clockwise in one place",
                           "a {shape} spinning clockwise like the hands of a clock",
                           "the {shape} stays where it is and rotates clockwise",
                           "a {shape} rotating clockwise"),
    "rotating counterclockwise": ("a {shape} turning counterclockwise in one place",
                                  "a {shape} spinning against the hands of a clock",
                                  "the {shape} stays where it is and rotates counterclockwise",
                                  "a {shape} rotating counterclockwise"),
    "growing": ("a {shape} that starts small and ends large",
                "a {shape} getting larger in one place",
                "the {shape} is small first and large last",
                "a {shape} growing bigger"),
    "shrinking": ("a {shape} that starts large and ends small",
                  "a {shape} getting smaller in one place",
                  "the {shape} is large first and small last",
                  "a {shape} shrinking"),
}


def split_class(class_name: str) -> tuple[str, str] | None:
    """``"star moving left"`` -> ``("star", "moving left")``; None for a name without a motion."""
    for motion in REVERSAL:
        if class_name.endswith(" " + motion):
            return class_name[: -len(motion) - 1], motion
    return None


def reversal_partner(class_name: str) -> str | None:
    """``"star moving left"`` -> ``"star moving right"``; None for a name without a motion."""
    parts = split_class(class_name)
    return None if parts is None else f"{parts[0]} {REVERSAL[parts[1]]}"


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
