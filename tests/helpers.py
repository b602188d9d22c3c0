"""Test helpers: the repository's paths, the tiny embedded world's settings, the real ``t2l`` CLI,
and small videos and split files made on the spot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from t2l.data.splits import adapters
from t2l.data.synth.world import SOURCE, TARGET, SynthConfig
from t2l.video.ffmpeg_io import write_video

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
os.environ.setdefault("DVC_NO_ANALYTICS", "1")  # the dvc processes tests start send nothing home

TINY_WORLD = SynthConfig(
    seed=3, size=32, fps=8, frames=(8, 14), source_shapes=("square", "star"), target_shapes=("heart",),
    motions=("moving left", "rotating clockwise"), source_clips_per_class={"train": 2, "val": 1, "test": 1},
    target_clips_per_class=1, target_splits=2, workers=2,
)


def run_t2l(*args: str, cwd: Path | None = None, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``t2l`` console script."""
    proc = subprocess.run([str(BIN / "t2l"), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"t2l {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def moving_square(frames: int = 10, size: int = 32, seed: int = 0) -> np.ndarray:
    """A plain test clip: a bright square crossing a noisy grey frame."""
    rng = np.random.default_rng(seed)
    video = np.full((frames, size, size, 3), 90, np.uint8) + rng.integers(0, 20, (frames, size, size, 3), dtype=np.uint8)
    for t in range(frames):
        x = 2 + t * (size - 12) // max(1, frames - 1)
        video[t, 10:20, x:x + 8] = (230, 60, 40)
    return video


def make_video(path: Path, frames: int = 10, size: int = 32, seed: int = 0, codec: str = "libx264") -> Path:
    write_video(moving_square(frames, size, seed), path, fps=8, codec=codec)
    return path


def write_splits(world_dir: Path, out: Path) -> dict[str, str]:
    """Canonical splits of both synthetic datasets; returns name -> video root."""
    roots = {name: str(world_dir / name) for name in (SOURCE, TARGET)}
    for name, root in roots.items():
        adapters.build("synthetic", name, Path(root), out)
    return roots


def world_params(world_dir: Path, **sections) -> str:
    """A params.yaml text pointing the datasets section at ``world_dir``."""
    import yaml

    params = {"datasets": {n: {"adapter": "synthetic", "root": str(world_dir / n), "watch": str(world_dir / n)}
                           for n in (SOURCE, TARGET)},
              "clip": {"frames": 8, "crop": 64, "short_side": 64},
              "extract": {"jpeg_quality": 95, "min_frames": 2, "workers": 2}}
    params.update(sections)
    return yaml.safe_dump(params)


def chat_server(answer) -> tuple:
    """A chat-completions server on 127.0.0.1 (not yet serving): each POST's JSON body goes to
    ``answer(body) -> (status, reply)`` and ``reply`` comes back as JSON. Returns (server, base URL)."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            status, reply = answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    return httpd, f"http://127.0.0.1:{httpd.server_port}/v1"
