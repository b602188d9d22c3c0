"""Rasterise frames of the world: textured background, static distractors, one main shape, noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from t2l.data.synth.motions import Trajectory
from t2l.data.synth.shapes import SHAPES, outline

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 90, 230),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 200),
    "orange": (245, 140, 30),
    "cyan": (40, 210, 220),
    "white": (240, 240, 240),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "grey": (110, 110, 110),
    "black": (25, 25, 25),
    "navy": (25, 35, 80),
    "brown": (90, 60, 35),
    "olive": (85, 95, 45),
}
SUPERSAMPLE = 4


@dataclass(frozen=True)
class Scene:
    """Everything static about a clip or image; the main shape's motion is a Trajectory."""

    shape: str
    colour: str
    background: str
    texture_seed: int
    distractors: tuple[tuple[str, str, float, float, float, float], ...]  # shape, colour, cx, cy, r, angle
    noise_std: float

    @property
    def caption(self) -> str:
        """Appearance-only caption (no motion words)."""
        return f"a {self.colour} {self.shape} on a {self.background} background"


def sample_scene(shape: str, size: int, distractors: tuple[int, int], noise_std: float, rng: np.random.Generator) -> Scene:
    others = [s for s in SHAPES if s != shape]
    found = []
    for _ in range(rng.integers(distractors[0], distractors[1] + 1)):
        r = rng.uniform(0.06, 0.09) * size
        found.append((str(rng.choice(others)), str(rng.choice(list(COLOURS))), rng.uniform(r, size - r),
                      rng.uniform(r, size - r), r, rng.uniform(0, 2 * np.pi)))
    return Scene(shape, str(rng.choice(list(COLOURS))), str(rng.choice(list(BACKGROUNDS))),
                 int(rng.integers(2**31)), tuple(found), noise_std)


def _mask(size: int, polygons: list[np.ndarray]) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of the union of ``polygons`` (pixel coordinates)."""
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    for poly in polygons:
        draw.polygon([tuple(p) for p in (poly * SUPERSAMPLE)], fill=255)
    return np.asarray(big.resize((size, size), Image.Resampling.BOX), dtype=np.float32) / 255.0


def _background(scene: Scene, size: int) -> np.ndarray:
    rng = np.random.default_rng(scene.texture_seed)
    coarse = rng.normal(0.0, 18.0, (max(2, size // 8), max(2, size // 8), 3)).astype(np.float32)
    img = Image.fromarray(np.clip(coarse + 128, 0, 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    canvas = np.asarray(BACKGROUNDS[scene.background], np.float32) + (np.asarray(img, np.float32) - 128)
    for name, colour, cx, cy, r, angle in scene.distractors:
        alpha = 0.6 * _mask(size, [outline(name, cx, cy, r, angle)])[..., None]
        canvas = canvas * (1 - alpha) + np.asarray(COLOURS[colour], np.float32) * alpha
    return canvas


def render(scene: Scene, traj: Trajectory, size: int, rng: np.random.Generator) -> np.ndarray:
    """Frames (T, size, size, 3) uint8 of ``scene`` with its main shape following ``traj``."""
    base = _background(scene, size)
    colour = np.asarray(COLOURS[scene.colour], np.float32)
    masks = np.stack([_mask(size, [outline(scene.shape, x, y, r, a)])
                      for x, y, r, a in zip(traj.cx, traj.cy, traj.radius, traj.angle)])[..., None]
    frames = base[None] * (1 - masks) + colour * masks
    frames += rng.normal(0.0, scene.noise_std, frames.shape).astype(np.float32)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)
