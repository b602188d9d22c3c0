"""Where one T2L training step spends its time: torch.profiler's top operators."""

from __future__ import annotations

import torch
from torch.profiler import ProfilerActivity, profile

from t2l.model.config import variant
from t2l.model.factory import build, tokenizer_for
from t2l.model.losses import cross_entropy_loss, tfd_loss
from t2l.model.text import ClassPrompts
from t2l.train.optim import adamw


def run(backbone: str = "t2l-tiny", frames: int = 8, batch: int = 16, classes: int = 32, rows: int = 15) -> dict:
    torch.manual_seed(0)
    model = build(variant("t2l", backbone=backbone, frames=frames)).train()
    video = torch.randn(batch, frames, 3, *model.clip.visual.image_size)
    prompts = ClassPrompts.from_names([f"class {i}" for i in range(classes)], tokenizer_for(model.cfg))
    labels = torch.arange(batch) % classes
    optimizer = adamw(model, 1e-3, 0.2)

    def step():
        frames_, class_emb = model(video, prompts)
        loss = cross_entropy_loss(model.logits(model.pool(frames_), class_emb), labels) + tfd_loss(frames_)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)[:rows]
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    top = [{"op": e.key, "self_cpu_ms": e.self_cpu_time_total / 1000, "share": e.self_cpu_time_total / total,
            "calls": e.count} for e in events]
    return {"backbone": backbone, "frames": frames, "batch": batch, "step_cpu_ms": total / 1000, "top_ops": top,
            "table": table}
