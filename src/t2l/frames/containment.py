"""Which split rows extraction may read and write, whether or not ``t2l validate`` ran first:
the video, every symlink followed, inside its dataset root; its archive inside the output
directory. Extraction refuses to start on any other row, naming its split file and line."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from t2l.errors import UserError
from t2l.frames.archive import archive_path
from t2l.fsio import resolves_inside

_ABSOLUTE = re.compile(r"^(?:/|\\|[A-Za-z]:)")  # as the split suite's check: POSIX, UNC and drive paths


class UnsafePath(UserError):
    """A split row whose video lies outside the dataset root, or whose archive would lie outside
    the output directory."""


def problem(rel: object, root: Path, out_dir: Path) -> str | None:
    """Why the split path ``rel`` may not be extracted from ``root`` into ``out_dir`` (a phrase
    naming the path), or None."""
    if not isinstance(rel, str) or not rel.strip() or "\0" in rel:
        return f"path {rel!r} is empty or not a file path"
    if _ABSOLUTE.match(rel):
        return f"path {rel!r} is absolute; split paths are relative to the dataset root {root}"
    if ".." in PurePosixPath(rel).parts or ".." in PureWindowsPath(rel).parts:
        return f"path {rel!r} climbs out of the dataset root {root} with '..'"
    if not resolves_inside(root, Path(root) / rel):
        return f"path {rel!r} resolves outside the dataset root {root} (a symlink pointing out of it?)"
    if not resolves_inside(out_dir, archive_path(out_dir, rel)):
        return f"path {rel!r}: its archive would resolve outside the output directory {out_dir} (a symlink?)"
    return None


def check_rows(rows: list[tuple[Path, int, str]], root: Path, out_dir: Path) -> None:
    """Raise UnsafePath for the first of ``rows`` (split file, line, path) that may not be
    extracted, counting the others; one line, as the CLI prints it."""
    bad = [(file, line, why) for file, line, rel in rows if (why := problem(rel, root, out_dir))]
    if bad:
        file, line, why = bad[0]
        more = f" ({len(bad) - 1} more such row(s))" if len(bad) > 1 else ""
        raise UnsafePath(f"{file}: line {line}: {why}; nothing was extracted{more}. "
                         "`t2l validate` reports every bad row of the split files")


def check_paths(paths: list[str], root: Path, out_dir: Path) -> None:
    """check_rows for bare paths (a caller that read the split files itself)."""
    bad = [(rel, why) for rel in paths if (why := problem(rel, root, out_dir))]
    if bad:
        more = f" ({len(bad) - 1} more such path(s))" if len(bad) > 1 else ""
        raise UnsafePath(f"{bad[0][1]}; nothing was extracted{more}")
