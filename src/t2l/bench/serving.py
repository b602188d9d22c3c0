"""Serving latency: the REST endpoint (``mlflow models serve`` on 127.0.0.1) against the model's bare forward.

A T2L model of the bench's backbone (CLIP weights as initialised, like the model benchmark) is
packaged exactly as ``t2l register`` packages a trained run and served in its own process. One
request carries one clip (an H.264 file made on the fly) and ``classes`` candidate names; the
same class list is sent every time, as a client with a fixed label set does, so after the first
request its text embeddings come from the server's cache. Reported per class count: p50/p95
seconds per request (one client), the first request (text embeddings computed), throughput
with ``clients`` concurrent clients, and the bare forward (decoded clip -> video embedding ->
scores against cached class embeddings) timed in this process while the server is idle.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import torch

from t2l.errors import UserError
from t2l.frames.clip_input import sampled_frames
from t2l.frames.clip_spec import ClipSpec
from t2l.frames.transforms import EvalTransform
from t2l.model.config import variant
from t2l.model.factory import build_model, tokenizer_for
from t2l.model.text import ClassPrompts
from t2l.model.trained import save_model
from t2l.serve import package
from t2l.video.ffmpeg_io import write_video

STARTUP_S = 300
REQUEST_TIMEOUT_S = 1800  # the scoring server's own limit (60 s by default): a cold 400-class list on a CPU takes longer


@dataclass(frozen=True)
class ServeBench:
    backbone: str = "t2l-tiny"
    frames: int = 8
    classes: tuple[int, ...] = (10, 400)  # candidate class counts, one measurement each
    requests: int = 20  # timed one-client requests per class count
    warmup: int = 2
    clients: int = 4  # concurrent clients for the throughput measurement
    concurrent_requests: int = 16  # requests they send in all
    video_frames: int = 32  # frames of the served clip (it samples ``frames`` of them)
    video_side: int = 256  # the clip's frame height; width 4/3 of it


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _packaged(b: ServeBench, tmp: Path):
    """The bench's model, its run directory packaged as the pyfunc, and the clip spec it was packaged with."""
    torch.manual_seed(0)
    model = build_model(variant("t2l", backbone=b.backbone, frames=b.frames)).eval()
    clip_weights = tmp / "clip.pt"
    torch.save(model.clip.state_dict(), clip_weights)
    cfg = replace(model.cfg, pretrained=str(clip_weights))
    save_model(tmp / "run", cfg, model.trainable_state_dict())
    crop = model.clip.visual.image_size
    crop = crop[0] if isinstance(crop, tuple | list) else crop
    spec = ClipSpec(frames=b.frames, crop=crop, short_side=round(crop * 256 / 224))
    package.save(tmp / "run", package.serving_config(spec, top_k=5), {}, tmp / "served")  # name templates
    return model, cfg, spec


def _clip(b: ServeBench, path: Path) -> bytes:
    rng = np.random.default_rng(0)
    h = b.video_side
    frames = rng.integers(0, 256, size=(b.video_frames, h, h * 4 // 3 // 2 * 2, 3), dtype=np.uint8)
    write_video(frames, path, fps=25, crf=23)
    return path.read_bytes()


def wait_until_up(http: httpx.Client, proc: subprocess.Popen, timeout_s: float) -> bool:
    """Poll the server's ``/ping`` until it answers 200 (True), or its process ends or
    ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if http.get("/ping", timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.5)


@contextmanager
def _server(model_dir: Path, log: Path) -> Iterator[httpx.Client]:
    port = _free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT_S)}
    with open(log, "w+") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
                                 "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=REQUEST_TIMEOUT_S)
        try:
            if not wait_until_up(http, proc, STARTUP_S):
                out.seek(0)
                raise UserError(f"t2l bench serve: the model server did not start:\n{out.read()[-2000:]}")
            yield http
        finally:
            http.close()
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()


def _request(http: httpx.Client, body: dict) -> float:
    start = time.perf_counter()
    r = http.post("/invocations", json=body)
    elapsed = time.perf_counter() - start
    if r.status_code != 200:
        raise UserError(f"t2l bench serve: the server answered {r.status_code}: {r.text[:300]}")
    return elapsed


def _throughput(http: httpx.Client, body: dict, b: ServeBench) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(b.clients) as pool:
        latencies = list(pool.map(lambda _: _request(http, body), range(b.concurrent_requests)))
    wall = time.perf_counter() - start
    return {"clients": b.clients, "requests": b.concurrent_requests, "requests_per_s": b.concurrent_requests / wall,
            "p50_s": _percentile(latencies, 50), "p95_s": _percentile(latencies, 95)}


@torch.no_grad()
def _bare(model, cfg, spec: ClipSpec, data: bytes, names: list[str], b: ServeBench) -> dict:
    """In-process medians: decoding the clip, and the forward from decoded frames to class scores."""
    classes = model.encode_classes(ClassPrompts.from_names(names, tokenizer_for(cfg)))
    transform = EvalTransform(spec.crop, spec.resize_ratio)
    decode, forward = [], []
    for i in range(b.warmup + b.requests):
        start = time.perf_counter()
        frames = sampled_frames(data, b.frames)
        mid = time.perf_counter()
        model.logits(model.encode_video(transform(frames).unsqueeze(0)), classes).softmax(-1)
        end = time.perf_counter()
        if i >= b.warmup:
            decode.append(mid - start)
            forward.append(end - mid)
    return {"decode_p50_s": _percentile(decode, 50), "forward_p50_s": _percentile(forward, 50),
            "forward_p95_s": _percentile(forward, 95)}


def run(b: ServeBench) -> dict:
    with tempfile.TemporaryDirectory(prefix="t2l-bench-serve-") as tmp:
        tmp = Path(tmp)
        model, cfg, spec = _packaged(b, tmp)
        data = _clip(b, tmp / "clip.mp4")
        video = base64.b64encode(data).decode()
        results = {}
        with _server(tmp / "served", tmp / "server.log") as http:
            for n in b.classes:
                names = [f"action number {i}" for i in range(n)]
                body = {"dataframe_records": [{"video": video, "name": "clip.mp4", "classes": names}],
                        "params": {"top_k": 1}}
                first = _request(http, body)
                for _ in range(b.warmup):
                    _request(http, body)
                latencies = [_request(http, body) for _ in range(b.requests)]
                row = {"first_request_s": first, "p50_s": _percentile(latencies, 50),
                       "p95_s": _percentile(latencies, 95), "concurrent": _throughput(http, body, b)}
                row.update(_bare(model, cfg, spec, data, names, b))
                row["p50_overhead_vs_forward"] = row["p50_s"] / row["forward_p50_s"] - 1
                row["p50_overhead_vs_decode_and_forward"] = row["p50_s"] / (row["decode_p50_s"] + row["forward_p50_s"]) - 1
                results[f"classes_{n}"] = row
        return {"clip_bytes": len(data), "server_threads": "torch default of the serving process",
                "bench_threads": torch.get_num_threads(), "results": results}
