"""``t2l bench``: run the benchmarks named in params.yaml's ``bench`` section, one JSON each."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch

from t2l.bench import data_path, model_cost, profile, serving
from t2l.errors import UserError
from t2l.fsio import write_json, write_text


@dataclass(frozen=True)
class BenchConfig:
    models: tuple[model_cost.ModelBench, ...] = (model_cost.ModelBench("t2l-tiny", batch=16, iterations=10),)
    data: tuple[data_path.DataBench, ...] = (data_path.DataBench("tiny", 64, 64, 40),)
    profile: dict = field(default_factory=dict)  # keyword arguments of t2l.bench.profile.run
    serve: tuple[serving.ServeBench, ...] = (serving.ServeBench("t2l-tiny"),)
    device: str = "auto"
    threads: int = 0  # torch intra-op threads; 0 = torch's default


def environment(device: torch.device) -> dict:
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "device": gpu or "cpu",
            "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
            "threads": torch.get_num_threads()}


def run(cfg: BenchConfig, what: str, out: Path) -> list[Path]:
    if what not in ("all", "model", "data", "profile", "serve"):
        raise UserError(f"t2l bench: unknown benchmark {what!r}; choose all, model, data, profile or serve")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if cfg.device == "auto" else cfg.device)
    env = environment(device)
    written = []
    if what in ("all", "model"):
        for b in cfg.models:
            written.append(Path(out) / f"model_{b.backbone}_{env['device'].replace(' ', '-')}.json")
            write_json(written[-1], {"environment": env, "config": asdict(b), **model_cost.run(b, device)})
    if what in ("all", "data"):
        for b in cfg.data:
            written.append(Path(out) / f"data_{b.name}.json")
            write_json(written[-1], {"environment": env, "config": asdict(b), **data_path.run(b)})
    if what in ("all", "profile"):
        result = profile.run(**cfg.profile)
        written.append(Path(out) / "profile_t2l_train_step.json")
        write_text(written[-1].with_suffix(".txt"), result.pop("table") + "\n")
        write_json(written[-1], {"environment": env, **result})
    if what in ("all", "serve"):
        for b in cfg.serve:
            written.append(Path(out) / f"serve_{b.backbone}_{env['device'].replace(' ', '-')}.json")
            write_json(written[-1], {"environment": env, "config": asdict(b), **serving.run(b)})
    return written
