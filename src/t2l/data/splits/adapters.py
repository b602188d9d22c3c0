"""Registry of dataset adapters: official layout on disk -> one canonical split directory."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

from t2l.data.splits import generic, hmdb51, kinetics, ssv2, synthetic, ucf101
from t2l.errors import UserError

# adapter(name, root, out_dir, **options) -> written directory out_dir/name
ADAPTERS: dict[str, Callable[..., Path]] = {
    "synthetic": synthetic.build,
    "ucf101": ucf101.build,
    "hmdb51": hmdb51.build,
    "kinetics400": kinetics.build,
    "kinetics600": kinetics.build,
    "ssv2": ssv2.build,
    "generic": generic.build,
}


def options_of(adapter: str) -> list[str]:
    return list(inspect.signature(ADAPTERS[adapter]).parameters)[3:]


def build(adapter: str, name: str, root: Path, out: Path, options: dict | None = None) -> Path:
    if adapter not in ADAPTERS:
        raise UserError(f"unknown dataset adapter {adapter!r}; known: {', '.join(ADAPTERS)}")
    if not Path(root).is_dir():
        raise UserError(f"{root}: dataset root of {name!r} is not a directory")
    unknown = sorted(set(options or {}) - set(options_of(adapter)))
    if unknown:
        raise UserError(f"dataset {name!r}: adapter {adapter!r} has no option(s) {', '.join(unknown)}; "
                        f"known: {', '.join(options_of(adapter)) or 'none'}")
    return ADAPTERS[adapter](name, Path(root), Path(out), **(options or {}))
