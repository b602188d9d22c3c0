"""Before a long ``dvc repro``: does this machine have what params.yaml needs?

Each check is one line, ``ok`` or ``missing`` with what to do; missing anything the pipeline
cannot start without fails the command (exit 1). Nothing is changed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from t2l import layout
from t2l.data.datasets import DatasetSpec
from t2l.data.splits.releases import RELEASES
from t2l.data.splits.schema import DATASET_FILE, dataset_info, read_table
from t2l.params import parse

GB = 1e9
STANDIN_PREFIX = "t2l-"  # the stand-in CLIPs (t2l-tiny): a CPU runs them


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    fix: str = ""
    required: bool = True

    def line(self) -> str:
        state = "ok" if self.ok else ("missing" if self.required else "note")
        return f"{state:8}{self.what}" + ("" if self.ok else f": {self.fix}")


def checks(params: dict, project: Path) -> list[Check]:
    out = [Check("ffmpeg on PATH", shutil.which("ffmpeg") is not None, "install ffmpeg (apt-get install ffmpeg)")]
    out += decoder_checks(params)
    archives = 0.0
    worlds = {str((w or {}).get("out", "")): key for key, w in (params.get("worlds") or {}).items()}
    for name, values in (params.get("datasets") or {}).items():
        spec = parse(DatasetSpec, values, f"datasets.{name}")
        for label, path in (("root", spec.root), ("watch", spec.watch)):
            made = next((f"synth@{key}" for out_dir, key in worlds.items()
                         if out_dir and (path == out_dir or path.startswith(out_dir.rstrip("/") + "/"))), None)
            exists = (project / path).exists()
            out.append(Check(f"datasets.{name}.{label} {path}" + (f" (made by {made})" if made and not exists else ""),
                             exists or made is not None,
                             f"put {name} there in its official layout (see docs/data.md), or change datasets.{name}.{label}"))
        counted, size = dataset_checks(name, spec, project, params)
        out, archives = out + counted, archives + size
    if archives:
        frames = project / layout.FRAMES
        free = shutil.disk_usage(next(p for p in (frames, *frames.parents) if p.exists())).free
        out.append(Check(f"free disk for the frame archives: {free / GB:,.1f} GB free, about {archives / GB:,.1f} GB needed",
                         free > archives, f"free space under {layout.FRAMES} (or link it to a larger disk)"))
    pretrained = str((params.get("model") or {}).get("pretrained", ""))
    made = {f"{layout.BACKBONES}/{n}.pt": f"weights@{n}" for n in params.get("weights") or {}}
    made |= {f"{layout.STANDIN}/{n}.pt": f"standin@{n}" for n in params.get("standin") or {}}
    if pretrained:
        there = (project / pretrained).is_file()
        out.append(Check(f"model.pretrained {pretrained}" + ("" if there or pretrained not in made else
                                                             f" (not there yet: {made[pretrained]} makes it)"),
                         there or pretrained in made,
                         "a weights file: add it to the weights section (weights@ downloads it) or give a path"))
    if pretrained and (project / pretrained).is_file():
        out.append(weights_check(project / pretrained))
    describe = params.get("describe") or {}
    if describe.get("backend") == "openai":
        key = (describe.get("openai") or {}).get("api_key_env", "OPENAI_API_KEY")
        out.append(Check(f"${key} for the openai description backend", bool(os.environ.get(key)),
                         f"export {key}=... (a local vLLM/Ollama server needs none: set describe.openai.base_url)",
                         required=False))
    from t2l.stage_inputs import unproduced

    out += [Check(f"{stage}: {problem}", False, "change the profile so that a stage produces it, or drop the stage")
            for stage, problem in unproduced(params, project)]
    try:
        import torch

        gpu = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        gpu = False
    backbone = str((params.get("model") or {}).get("backbone", ""))
    out.append(Check("a CUDA GPU", gpu, "training on the CPU takes days at ViT-B/16; fine for the stand-in CLIP",
                     required=not backbone.startswith(STANDIN_PREFIX)))
    if gpu:
        out.append(Check("bf16 on the GPU", torch.cuda.is_bf16_supported(),
                         "train.precision auto uses fp16 with a gradient scaler instead", required=False))
    return out


def dataset_checks(name: str, spec: DatasetSpec, project: Path, params: dict) -> tuple[list[Check], float]:
    """Counts of a converted dataset (against its release) and its archives' estimated size in bytes."""
    from t2l.frames.footprint import estimate
    from t2l.jobs import extract_config

    split_dir = project / layout.SPLITS / name
    if not (split_dir / DATASET_FILE).is_file():
        return [Check(f"datasets.{name} converted", False, f"not yet: dvc repro splits@{name} counts and converts it",
                      required=False)], 0.0
    info = dataset_info(split_dir)
    paths = sorted({p for s in info["splits"].values() for p in read_table(split_dir / s["file"])["path"].dropna()})
    missing = sum(m["count"] for m in info.get("missing_videos", {}).values())
    counted = f"datasets.{name}: {info['classes']:,} classes, {len(paths):,} videos in its splits" + (
        f", {missing:,} listed but missing (deleted upstream; left out)" if missing else "")
    release = RELEASES.get(spec.adapter)
    as_released = not (spec.release and release) or info["classes"] == release.classes
    out = [Check(counted, as_released, f"the official release has {release.classes if release else 0} classes; "
                                       "t2l validate reports what differs", required=False)]
    cfg = extract_config(params)
    archives = project / layout.FRAMES / name
    if paths and not archives.is_dir():
        f = estimate(project / spec.root, paths, cfg)
        out.append(Check(f"datasets.{name} frame archives: about {f.total_bytes / GB:,.1f} GB ({f.frames_per_video:,.0f} "
                         f"frames and {f.bytes_per_video / 1e6:,.1f} MB per video, from {f.sampled} sampled)", True))
        return out, f.total_bytes
    return out, 0.0


def weights_check(path: Path) -> Check:
    """The weights file loads as a state dict (safely); whether CLIP will run it with QuickGELU."""
    from t2l.errors import UserError
    from t2l.model.backbone import needs_quick_gelu, read_state_dict

    try:
        tensors = len(read_state_dict(path, mmap=True))
    except UserError as e:  # reported, not raised
        return Check(f"{path.name} loads", False, f"not a loadable state dict ({e}); fetch it again")
    gelu = "QuickGELU (OpenAI weights)" if needs_quick_gelu(str(path)) else "GELU"
    return Check(f"{path.name} loads: {tensors} tensors, run with {gelu}", True)


def decoder_checks(params: dict) -> list[Check]:
    """decord, else PyAV, for decoding videos directly (training with decoder decord/pyav, serving, predict)."""
    import importlib.util

    found = [m for m in ("decord", "av") if importlib.util.find_spec(m)]
    direct = (params.get("train") or {}).get("decoder", "archive") != "archive"
    return [Check(f"a video decoder: {', '.join(found) or 'none'}", bool(found),
                  "pip install decord (or av); training from frame archives needs neither", required=direct)]
