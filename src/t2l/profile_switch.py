"""Switching profiles in one project without losing either profile's results.

DVC keeps one ``dvc.lock`` per project and never restores an output it does not cache: the
metrics files, the headline summaries and what ``track`` and ``register`` wrote. So ``t2l profile
<name>`` sets the active profile's lock and those results aside under
``.t2l/profiles/<active>/`` and puts back the ones ``<name>`` left there; ``dvc checkout`` then
restores the cached outputs (models, reports, figures) of that lock. A profile that never ran
starts with no lock and no results, so nothing another profile made is read as its own.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from t2l import layout
from t2l.fsio import read_yaml

# What DVC cannot restore: the lock, and the outputs written with ``cache: false`` (and beside them,
# outside DVC, the run ids of the last tracked execution and the last registration).
PER_PROFILE = ("dvc.lock", layout.METRICS, layout.LOGGED, layout.PACKAGED, layout.TRACKED, layout.REGISTERED)


@dataclass
class Switch:
    left: str | None  # the profile that was active
    kept: list[str] = field(default_factory=list)  # its files set aside
    restored: list[str] = field(default_factory=list)  # the new profile's files put back

    def lines(self, name: str) -> list[str]:
        out = []
        if self.kept:
            out.append(f"profile: kept {self.left}'s {', '.join(self.kept)} in {shelf(self.left)}")
        if self.restored:
            out.append(f"profile: restored {name}'s {', '.join(self.restored)}; `dvc checkout` restores its "
                       "cached outputs")
        elif self.left is not None and self.left != name:
            out.append(f"profile: {name} has no results in this project yet")
        return out


def shelf(profile: str) -> Path:
    return Path(layout.PROFILE_RESULTS) / profile


def active_profile(params: Path) -> str | None:
    """The ``profile`` key of an existing params file, else None."""
    if not params.is_file():
        return None
    data = read_yaml(params)
    name = data.get("profile") if isinstance(data, dict) else None
    return str(name) if name else None


def _move(paths: tuple[str, ...], source: Path, target: Path) -> list[str]:
    moved = []
    for rel in paths:
        src, dst = source / rel, target / rel
        if not src.exists():
            continue
        if dst.is_dir():
            shutil.rmtree(dst)
        elif dst.exists():
            dst.unlink()
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), str(dst))
        moved.append(rel)
    return moved


def switch(project: Path, params: Path, name: str) -> Switch:
    """Set the active profile's results aside and bring back ``name``'s (before params.yaml is
    rewritten). Re-writing the active profile, or a params file that names none, moves nothing."""
    left = active_profile(params)
    result = Switch(left)
    if left is None or left == name:
        return result
    result.kept = _move(PER_PROFILE, project, project / shelf(left))
    stored = project / shelf(name)
    if stored.is_dir():
        result.restored = _move(PER_PROFILE, stored, project)
        shutil.rmtree(stored)
    return result
