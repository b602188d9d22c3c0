"""Registry of dataset adapters: official layout on disk -> one canonical split directory."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from t2l.data.splits import synthetic
from t2l.errors import UserError

# adapter(name, root, out_dir, **options) -> written directory out_dir/name
ADAPTERS: dict[str, Callable[..., Path]] = {
    "synthetic": synthetic.build,
}


def build(adapter: str, name: str, root: Path, out: Path, options: dict | None = None) -> Path:
    if adapter not in ADAPTERS:
        raise UserError(f"unknown dataset adapter {adapter!r}; known: {', '.join(ADAPTERS)}")
    if not Path(root).is_dir():
        raise UserError(f"{root}: dataset root of {name!r} is not a directory")
    return ADAPTERS[adapter](name, Path(root), Path(out), **(options or {}))
