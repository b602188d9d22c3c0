"""Vanilla CLIP (frame average), T2L and ViFi-CLIP (full fine-tune) side by side in one process:
GFLOPs per clip, parameters, inference clips/s, training step time and peak memory, as ratios to
vanilla CLIP (inference) and to ViFi-CLIP (training), with TC-CLIP and ALT beside them.

Timings are interleaved (one call of each variant per round, medians over rounds), so warm-up
and drift of the machine fall on every variant alike; peak memory is measured last, because its
CPU sampler changes how malloc serves the rest of the process."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from t2l.bench.memory import peak_memory
from t2l.model.config import variant
from t2l.model.factory import build_model, tokenizer_for
from t2l.model.info import parameter_counts, video_gflops
from t2l.model.text import ClassPrompts
from t2l.train.optim import adamw

VARIANTS = ("vanilla", "t2l", "vifi", "tc_clip", "alt")
TRAINED = VARIANTS[1:]  # vanilla CLIP has nothing to train
ENTITIES = ("head", "hands", "arms", "legs", "feet", "torso", "a ball", "the ground")  # ALT's corpus, as in a real one


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


def interleaved(calls: dict, iterations: int, warmup: int, device: torch.device) -> dict[str, float]:
    """Median seconds per call of each of ``calls``, timed round-robin after ``warmup`` rounds."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(warmup + iterations):
        for name, fn in calls.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def bench_model(name: str, b: ModelBench, device: torch.device):
    """Variant ``name`` at the bench's backbone and frames, and a random batch of clips for it."""
    torch.manual_seed(0)
    model = build_model(variant(name, backbone=b.backbone, frames=b.frames, alt={"entity_texts": ENTITIES})).to(device)
    video = torch.randn(b.batch, b.frames, 3, *model.clip.visual.image_size, device=device)
    return model, video


def describe(model) -> dict:
    counts = parameter_counts(model)
    return {"params_trainable": counts["trainable"], "params_total": counts["total"],
            "gflops_per_clip": video_gflops(model, model.cfg.frames)}


def inference_call(model, video):
    model.eval()

    @torch.no_grad()
    def call():
        model.encode_video(video)
    return call


def train_step(model, video, b: ModelBench, device: torch.device, lr: float = 1e-5):
    """A closure doing one training step of ``model`` (the trainer's objective) with a fresh optimiser."""
    prompts = ClassPrompts.from_names([f"class {i}" for i in range(b.classes)], tokenizer_for(model.cfg)).to(device)
    labels = torch.arange(b.batch, device=device) % b.classes
    optimizer = adamw(model, lr, 0.2, decay_policy=model.cfg.decay_policy)
    model.train()

    def step():
        loss, _ = model.objective(*model(video, prompts), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def training_memory(name: str, b: ModelBench, device: torch.device) -> float:
    """Peak MB of the first two steps of a fresh model: activations, gradients, optimiser state."""
    model, video = bench_model(name, b, device)
    step = train_step(model, video, b, device)
    with peak_memory(device) as mem:
        step()
        step()
        _sync(device)
    return mem["peak_mb"]


def run(b: ModelBench, device: torch.device) -> dict:
    built = {name: bench_model(name, b, device) for name in VARIANTS}
    rows = {name: {"variant": name, **describe(m)} for name, (m, _) in built.items()}
    infer = interleaved({n: inference_call(m, v) for n, (m, v) in built.items()}, b.iterations, b.warmup, device)
    train = interleaved({n: train_step(*built[n], b, device) for n in TRAINED}, b.iterations, b.warmup, device)
    del built
    for name, seconds in infer.items():
        rows[name].update(inference_clips_per_s=b.batch / seconds, inference_ms_per_clip=1000 * seconds / b.batch)
    for name, seconds in train.items():
        rows[name].update(train_step_s=seconds, train_clips_per_s=b.batch / seconds,
                          train_peak_mb=training_memory(name, b, device))
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
        **{f"{peer}_vs_clip_{what}": rows[peer][key] / base[key] for peer in ("tc_clip", "alt")
           for what, key in (("flops", "gflops_per_clip"), ("time_per_clip", "inference_ms_per_clip"))},
        **{f"{peer}_vs_t2l_train_step_time": rows[peer]["train_step_s"] / t2l["train_step_s"] for peer in ("tc_clip", "alt")},
    }
    return {"backbone": b.backbone, "frames": b.frames, "batch": b.batch, "iterations": b.iterations,
            "variants": rows, "ratios": ratios}
