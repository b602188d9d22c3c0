"""Which split rows extraction may read and write, whether or not ``t2l validate`` ran first:
the video, every symlink followed, inside its dataset root; its archive inside the output
directory. Extraction refuses to start on any other row, naming its split file and line."""

from __future__ import annotations

import os
import re
from pathlib import Path

from t2l.errors import UserError
from t2l.frames.archive import archive_path
from t2l.fsio import RealPaths

_ABSOLUTE = re.compile(r"^(?:/|\\|[A-Za-z]:)")  # as the split suite's check: POSIX, UNC and drive paths
_SEPARATORS = re.compile(r"[/\\]")


class UnsafePath(UserError):
    """A split row whose video lies outside the dataset root, or whose archive would lie outside
    the output directory."""


def problem(rel: object, root: Path, out_dir: Path, real: RealPaths | None = None) -> str | None:
    """Why the split path ``rel`` may not be extracted from ``root`` into ``out_dir`` (a phrase
    naming the path), or None. ``real``: one RealPaths for all rows of a check."""
    real = real or RealPaths()
    if not isinstance(rel, str) or not rel.strip() or "\0" in rel:
        return f"path {rel!r} is empty or not a file path"
    if _ABSOLUTE.match(rel):
        return f"path {rel!r} is absolute; split paths are relative to the dataset root {root}"
    if ".." in _SEPARATORS.split(rel):
        return f"path {rel!r} climbs out of the dataset root {root} with '..'"
    if not real.inside(root, os.path.join(root, rel)):
        return f"path {rel!r} resolves outside the dataset root {root} (a symlink pointing out of it?)"
    if not real.inside(out_dir, archive_path(out_dir, rel)):
        return f"path {rel!r}: its archive would resolve outside the output directory {out_dir} (a symlink?)"
    return None


def check_rows(rows: list[tuple[Path, int, str]], root: Path, out_dir: Path) -> None:
    """Raise UnsafePath for the first of ``rows`` (split file, line, path) that may not be
    extracted, counting the others; one line, as the CLI prints it."""
    real = RealPaths()
    bad = [(file, line, why) for file, line, rel in rows if (why := problem(rel, root, out_dir, real))]
    if bad:
        file, line, why = bad[0]
        more = f" ({len(bad) - 1} more such row(s))" if len(bad) > 1 else ""
        raise UnsafePath(f"{file}: line {line}: {why}; nothing was extracted{more}. "
                         "`t2l validate` reports every bad row of the split files")


def check_paths(paths: list[str], root: Path, out_dir: Path) -> None:
    """check_rows for bare paths (a caller that read the split files itself)."""
    real = RealPaths()
    bad = [(rel, why) for rel in paths if (why := problem(rel, root, out_dir, real))]
    if bad:
        more = f" ({len(bad) - 1} more such path(s))" if len(bad) > 1 else ""
        raise UnsafePath(f"{bad[0][1]}; nothing was extracted{more}")
