"""Where one T2L training step spends its time: torch.profiler's top operators."""

from __future__ import annotations

import torch
from torch.profiler import ProfilerActivity, profile

from t2l.bench.model_cost import ModelBench, bench_model, train_step


def run(backbone: str = "t2l-tiny", frames: int = 8, batch: int = 16, classes: int = 32, rows: int = 15) -> dict:
    b = ModelBench(backbone, frames, batch, classes)
    cpu = torch.device("cpu")
    step = train_step(*bench_model("t2l", b, cpu), b, cpu, lr=1e-3)
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
