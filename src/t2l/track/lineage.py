"""What a run was made from: git commit, dvc.lock, dataset and split-file hashes."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import yaml

from t2l.fsio import file_digest


def tree_sha256(directory: Path) -> str:
    """One hash over every file under ``directory``: relative paths and contents, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(directory).as_posix()}\0{file_digest(path)}\n".encode())
    return digest.hexdigest()


def git_state(root: Path) -> dict[str, str]:
    """Commit and whether tracked files differ from it; ``unknown`` outside a git work tree."""
    def git(*args: str) -> str | None:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown", "dirty": "unknown"}
    return {"commit": commit, "dirty": str(bool(git("status", "--porcelain", "--untracked-files=no")))}


def data_hashes(splits: Path, protocols: Path, lock: Path) -> dict[str, str]:
    """Params naming each split file's sha256, one hash per dataset and protocol directory, and
    the hash DVC recorded in ``dvc.lock`` for each output under ``data/`` (the raw videos' and
    frames' content)."""
    out = {}
    for root, kind in ((splits, "dataset"), (protocols, "protocol")):
        for d in sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else ():
            out[f"lineage.{kind}.{d.name}.sha256"] = tree_sha256(d)
            if kind == "dataset":
                out.update({f"lineage.dataset.{d.name}.{f.name}.sha256": file_digest(f) for f in sorted(d.glob("*.csv"))})
    if lock.is_file():
        out["lineage.dvc_lock.sha256"] = file_digest(lock)
        for stage in (yaml.safe_load(lock.read_text()) or {}).get("stages", {}).values():
            for o in stage.get("outs", []):
                if o["path"].startswith("data/"):
                    out[f"lineage.dvc.{o['path']}"] = o.get("md5") or o.get("hash", "")
    return out
