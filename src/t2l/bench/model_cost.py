"""Vanilla CLIP (frame average), T2L and ViFi-CLIP (full fine-tune) side by side in one process:
GFLOPs per clip, parameters, inference clips/s, training step time and peak memory, as ratios to
vanilla CLIP (inference) and to ViFi-CLIP (training)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from t2l.bench.memory import peak_memory
from t2l.model.config import variant
from t2l.model.factory import build, tokenizer_for
from t2l.model.info import parameter_counts, video_gflops
from t2l.model.losses import cross_entropy_loss, tfd_loss
from t2l.model.text import ClassPrompts
from t2l.train.optim import adamw

VARIANTS = ("vanilla", "t2l", "vifi")


@dataclass(frozen=True)
class ModelBench:
    backbone: str
    frames: int = 8
    batch: int = 4  # clips per inference batch and per training step
    classes: int = 32  # class texts the training loss compares against
    iterations: int = 3
    warmup: int = 1


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, iterations: int, warmup: int, device) -> float:
    """Median seconds per call after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def measure(name: str, b: ModelBench, device: torch.device) -> dict:
    torch.manual_seed(0)
    model = build(variant(name, backbone=b.backbone, frames=b.frames)).to(device)
    size = model.clip.visual.image_size
    video = torch.randn(b.batch, b.frames, 3, *size, device=device)
    row = {"variant": name, **{f"params_{k}": v for k, v in parameter_counts(model).items() if k in ("trainable", "total")},
           "gflops_per_clip": video_gflops(model, b.frames)}
    model.eval()
    with torch.no_grad():
        seconds = _timed(lambda: model.pool(model.encode_frames(video)), b.iterations, b.warmup, device)
    row["inference_clips_per_s"] = b.batch / seconds
    row["inference_ms_per_clip"] = 1000 * seconds / b.batch
    if not any(p.requires_grad for p in model.parameters()):
        return row  # vanilla CLIP has nothing to train
    prompts = ClassPrompts.from_names([f"class {i}" for i in range(b.classes)], tokenizer_for(model.cfg)).to(device)
    labels = torch.arange(b.batch, device=device) % b.classes
    optimizer = adamw(model, 1e-5, 0.2)
    model.train()

    def step():
        frames, classes = model(video, prompts)
        loss = cross_entropy_loss(model.logits(model.pool(frames), classes), labels)
        if model.cfg.tfd_weight:
            loss = loss + tfd_loss(frames)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    with peak_memory(device) as mem:
        seconds = _timed(step, b.iterations, b.warmup, device)
    row.update(train_step_s=seconds, train_clips_per_s=b.batch / seconds, train_peak_mb=mem["peak_mb"])
    return row


def run(b: ModelBench, device: torch.device) -> dict:
    rows = {name: measure(name, b, device) for name in VARIANTS}
    base, vifi, t2l = rows["vanilla"], rows["vifi"], rows["t2l"]
    ratios = {
        "t2l_vs_clip_flops": t2l["gflops_per_clip"] / base["gflops_per_clip"],
        "t2l_vs_clip_time_per_clip": t2l["inference_ms_per_clip"] / base["inference_ms_per_clip"],
        "vifi_vs_clip_flops": vifi["gflops_per_clip"] / base["gflops_per_clip"],
        "vifi_vs_t2l_flops": vifi["gflops_per_clip"] / t2l["gflops_per_clip"],
        "vifi_vs_t2l_inference_throughput": vifi["inference_clips_per_s"] / t2l["inference_clips_per_s"],
        "t2l_vs_vifi_train_step_time": t2l["train_step_s"] / vifi["train_step_s"],
        "t2l_vs_vifi_train_peak_memory": t2l["train_peak_mb"] / vifi["train_peak_mb"],
        "vifi_vs_t2l_trainable_params": vifi["params_trainable"] / t2l["params_trainable"],
    }
    return {"backbone": b.backbone, "frames": b.frames, "batch": b.batch, "iterations": b.iterations,
            "variants": rows, "ratios": ratios}
