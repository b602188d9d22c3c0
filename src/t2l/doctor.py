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
from t2l.params import parse


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
    for name, values in (params.get("datasets") or {}).items():
        spec = parse(DatasetSpec, values, f"datasets.{name}")
        for label, path in (("root", spec.root), ("watch", spec.watch)):
            p = project / path
            out.append(Check(f"datasets.{name}.{label} {path}", p.exists(),
                             f"put {name} there in its official layout (see docs/data.md), or change datasets.{name}.{label}"))
    pretrained = str((params.get("model") or {}).get("pretrained", ""))
    made = {f"{layout.BACKBONES}/{n}.pt" for n in params.get("weights") or {}}
    made |= {f"{layout.STANDIN}/{n}.pt" for n in params.get("standin") or {}}
    if pretrained:
        out.append(Check(f"model.pretrained {pretrained}", (project / pretrained).is_file() or pretrained in made,
                         "a weights file: add it to the weights section (weights@ downloads it) or give a path"))
    describe = params.get("describe") or {}
    if describe.get("backend") == "openai":
        key = (describe.get("openai") or {}).get("api_key_env", "OPENAI_API_KEY")
        out.append(Check(f"${key} for the openai description backend", bool(os.environ.get(key)),
                         f"export {key}=... (a local vLLM/Ollama server needs none: set describe.openai.base_url)",
                         required=False))
    try:
        import torch

        gpu = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        gpu = False
    real = not params.get("standin")
    out.append(Check("a CUDA GPU", gpu, "training on the CPU takes days at ViT-B/16; fine for the embedded default",
                     required=real))
    return out
