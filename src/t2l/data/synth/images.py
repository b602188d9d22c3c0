"""Single captioned frames of the world, for the stand-in CLIP's image-text pretraining.

Each image is one random frame of a random motion (so images share the videos' per-frame
distribution) of any of the world's shapes, with the attributes its caption names.
"""

from __future__ import annotations

from multiprocessing import get_context

import numpy as np
import pandas as pd

from t2l.data.synth.captions import ATTRIBUTES, position_word, size_word
from t2l.data.synth.motions import sample_forward
from t2l.data.synth.render import render, sample_scene
from t2l.data.synth.shapes import SHAPES


def render_image(world, index: int, stream: int) -> tuple[np.ndarray, dict[str, str]]:
    """Image ``index`` of random stream ``stream`` (e.g. 0 training, 1 held out): (H, W, 3) uint8."""
    rng = np.random.default_rng([world.seed, stream, index, 2])
    scene = sample_scene(str(rng.choice(list(SHAPES))), world.size, world.distractors, world.noise_std, rng)
    traj = sample_forward(str(rng.choice(world.motions)), 16, world.size, world.shape_radius, rng)
    at = traj.frame(int(rng.integers(16)))
    frame = render(scene, at, world.size, rng)[0]
    return frame, {"shape": scene.shape, "colour": scene.colour, "background": scene.background,
                   "position": position_word(at.cx[0], at.cy[0], world.size), "size": size_word(at.radius[0], world.size)}


def _render(args) -> tuple[np.ndarray, dict[str, str]]:
    return render_image(*args)


def render_images(world, count: int, stream: int, workers: int = 2) -> tuple[np.ndarray, pd.DataFrame]:
    """``count`` images (N, H, W, 3) of ``stream`` and their attributes, deterministic per seed."""
    with get_context("fork").Pool(workers) as pool:
        done = pool.map(_render, ((world, i, stream) for i in range(count)), chunksize=256)
    return np.stack([f for f, _ in done]), pd.DataFrame([a for _, a in done], columns=list(ATTRIBUTES))
