"""Small file-system helpers shared by every stage: atomic writes and YAML/JSON I/O."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from t2l.errors import UserError

TMP_MARK = ".partial"
_UMASK = os.umask(0)
os.umask(_UMASK)


def resolves_inside(base: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path``, every symlink followed, lies under ``base`` (also resolved)."""
    real_base = os.path.realpath(base)
    return os.path.realpath(path).startswith(real_base.rstrip(os.sep) + os.sep)


class RealPaths:
    """``os.path.realpath`` and resolves_inside for many files in few directories (a dataset's
    videos): each directory is resolved once, each file costs one lstat. For one pass over a
    tree that does not change meanwhile."""

    def __init__(self):
        self._dirs: dict[str, str] = {}
        self._bases: dict[str, str] = {}

    def __call__(self, path: str | os.PathLike) -> str:
        head, tail = os.path.split(os.fspath(path))
        if head not in self._dirs:
            self._dirs[head] = os.path.realpath(head)
        full = os.path.join(self._dirs[head], tail)
        return os.path.realpath(full) if tail in ("", ".", "..") or os.path.islink(full) else full

    def inside(self, base: str | os.PathLike, path: str | os.PathLike) -> bool:
        """resolves_inside(base, path)."""
        key = os.fspath(base)
        if key not in self._bases:
            self._bases[key] = os.path.realpath(key).rstrip(os.sep) + os.sep
        return self(path).startswith(self._bases[key])


def remove_partials(root: str | os.PathLike) -> int:
    """Delete temporary files that killed writers left under ``root``; return how many."""
    found = [p for p in Path(root).rglob(f".*{TMP_MARK}*") if p.is_file()]
    for p in found:
        p.unlink()
    return len(found)


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary name keeps ``suffix`` last (ffmpeg picks its muxer from it). A killed writer
    leaves no partial ``path``, at most a hidden ``*.partial*`` file for remove_partials().
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f"{TMP_MARK}{suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # one member time for every archive: same content, same bytes, same DVC hash


@contextmanager
def zip_writer(path: str | os.PathLike) -> Iterator[Callable[[str, bytes], None]]:
    """Write an uncompressed zip atomically; yields ``add(name, data)``. Members get a fixed time
    and mode, so the same content always gives the same bytes."""
    with atomic_path(path, ".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
        yield add


def save_torch(path: str | os.PathLike, obj: Any) -> None:
    """``torch.save`` atomically, through a file object: torch then names its archive records
    "archive" instead of after the random temporary file, so equal tensors give equal bytes."""
    import torch  # here, not at the top: most stages that write files never need torch

    with atomic_path(path, ".pt") as tmp, open(tmp, "wb") as f:
        torch.save(obj, f)


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: line {e.lineno}: invalid JSON: {e.msg}") from None


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's numbers (``1e-3`` is a float, not a string) and
    duplicate keys refused (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789."))


def read_yaml(path: str | os.PathLike) -> Any:
    """A YAML file, safely (no Python objects), with YAML 1.2 numbers and no duplicate keys."""
    path = Path(path)
    try:
        return yaml.load(path.read_text(), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        line = f":{e.problem_mark.line + 1}" if e.problem_mark else ""
        raise UserError(f"{path}{line}: invalid YAML: {' '.join(filter(None, (e.context, e.problem)))}") from None
    except yaml.YAMLError as e:
        raise UserError(f"{path}: invalid YAML: {e}") from None


def write_csv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame atomically, without index, with Unix line endings."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")


JOB_MARKER = ".t2l-job.json"


def resumable_dir(out: str | os.PathLike, config: dict) -> bool:
    """Prepare ``out`` for a resumable job that writes finished items atomically under it.

    Same ``config`` as the interrupted or finished run there: keep its items (minus leftovers of
    killed writers) and return True. Another config: empty the directory, written by t2l as its
    marker shows, and return False. A non-empty directory without marker is never touched.
    """
    out = Path(out)
    marker = out / JOB_MARKER
    if marker.is_file() and read_json(marker) == config:
        remove_partials(out)
        return True
    if out.is_dir() and any(out.iterdir()):
        if not marker.is_file():
            raise UserError(f"{out}: not empty and not written by t2l (no {JOB_MARKER}); refusing to overwrite it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(marker, config)
    return False
