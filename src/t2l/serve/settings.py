"""The serving limits and the media root: defaults here, set by the operator through ``T2L_SERVE_*``
environment variables of the serving process (see docs/serving.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from t2l.errors import UserError
from t2l.frames.clip_input import MB, ClipLimits

PREFIX = "T2L_SERVE_"


@dataclass(frozen=True)
class ServeSettings:
    media_root: str = ""  # a directory the `path` column may name files under; empty: paths are refused
    max_rows: int = 8  # clips per request
    max_classes: int = 1000  # candidate classes per clip
    max_class_chars: int = 300  # characters per class name (CLIP reads at most 77 tokens)
    max_name_chars: int = 256  # characters of a clip's `name` and, in messages, of its `path`
    max_clip_mb: float = 32.0  # one clip's bytes
    max_request_mb: float = 64.0  # all clips of a request
    max_frame_pixels: int = 1920 * 1088  # width x height, read from the container header before decoding
    max_aspect: float = 4.0  # long side / short side of a frame
    decode_timeout_s: float = 5.0  # one clip's decoding; the worker is killed and replaced past it
    decode_workers: int = 2  # decode worker processes
    decode_memory_mb: int = 2048  # address-space limit of each worker
    text_cache: int = 4096  # classes whose text embeddings are kept (least recently used goes first)
    max_new_classes: int = 400  # classes per request whose text is not encoded yet

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "ServeSettings":
        values = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = type(f.default)(raw)
            except ValueError:
                raise UserError(f"{PREFIX}{f.name.upper()}={raw!r}: expected a {type(f.default).__name__}") from None
        settings = cls(**values)
        numbers = [f.name for f in fields(cls) if f.name != "media_root"]
        bad = [PREFIX + name.upper() for name in numbers if getattr(settings, name) <= 0]
        if bad:
            raise UserError(f"{', '.join(bad)}: must be positive")
        return settings

    def root(self) -> Path | None:
        """The media root, resolved; None when paths are off."""
        if not self.media_root:
            return None
        root = Path(os.path.realpath(self.media_root))
        if not root.is_dir():
            raise UserError(f"{PREFIX}MEDIA_ROOT={self.media_root}: not a directory")
        return root

    def clip_limits(self) -> ClipLimits:
        return ClipLimits(int(self.max_clip_mb * MB), self.max_frame_pixels, self.max_aspect)
