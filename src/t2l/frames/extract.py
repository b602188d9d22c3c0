"""The ``extract`` stage: decode each video once into a frame archive; quarantine bad videos.

Frames stream from ffmpeg into the archive, so memory holds a frame or two, not the video.
Resumable and kill-safe: archives are written to a temporary name and renamed, a video whose
archive records its current content fingerprint (not its modification time) is skipped on a
re-run, and leftovers of a killed run are removed before starting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from tqdm import tqdm

from t2l.data.splits.schema import dataset_info, read_table
from t2l.errors import UserError
from t2l.frames import archive
from t2l.frames.ffmpeg_io import VideoError, iter_frames
from t2l.frames.fingerprint import fingerprint
from t2l.fsio import resumable_dir, write_csv, write_json

MANIFEST, QUARANTINE = "manifest.csv", "quarantine.json"


@dataclass(frozen=True)
class ExtractConfig:
    short_side: int = 0  # 0 keeps the native size
    jpeg_quality: int = 95
    min_frames: int = 2
    strict: bool = True  # a corrupt packet anywhere quarantines the video (ffmpeg -xerror)
    workers: int = 2


def _at_least(frames: Iterator[np.ndarray], n: int, video: Path) -> Iterator[np.ndarray]:
    """``frames``, then a VideoError if there were fewer than ``n``."""
    count = 0
    for count, frame in enumerate(frames, 1):
        yield frame
    if count < n:
        raise VideoError(f"{video}: only {count} frame(s); at least {n} needed (extract.min_frames)")


def extract_one(video: Path, target: Path, cfg: ExtractConfig) -> dict:
    """Stream the frames of ``video`` into its archive, with the video's content fingerprint in
    the archive's meta; raise VideoError, leaving no archive, if the video cannot be used."""
    try:
        source = fingerprint(video)  # before decoding: a video replaced meanwhile is redone next run
    except FileNotFoundError:
        raise VideoError(f"{video}: no such file") from None
    except OSError as e:
        raise VideoError(f"{video}: cannot read the file ({e.strerror or e})") from None
    frames = _at_least(iter_frames(video, cfg.short_side, cfg.strict), cfg.min_frames, video)
    return archive.write(frames, target, {"source": Path(video).name, **source}, cfg.jpeg_quality)


def _work(args: tuple[str, Path, Path, ExtractConfig]) -> tuple[str, dict | None, str | None]:
    rel, root, out_dir, cfg = args
    try:
        return rel, extract_one(root / rel, archive.archive_path(out_dir, rel), cfg), None
    except VideoError as e:
        return rel, None, str(e)


def split_paths(split_dir: Path) -> list[str]:
    """Every video path named by any split file of a dataset, de-duplicated, sorted."""
    paths: set[str] = set()
    for split in dataset_info(split_dir)["splits"].values():
        paths.update(read_table(split_dir / split["file"])["path"].dropna())
    return sorted(paths)


def extract_videos(paths: list[str], root: Path, out_dir: Path, cfg: ExtractConfig, desc: str = "extract") -> list[dict]:
    """Extract ``paths`` without an up-to-date archive; return quarantine entries for failures."""
    todo = [p for p in paths if not archive.is_current(archive.archive_path(out_dir, p), root / p)]
    quarantined = []
    with get_context("fork").Pool(cfg.workers) as pool:
        work = ((p, root, out_dir, cfg) for p in todo)
        for rel, _, error in tqdm(pool.imap_unordered(_work, work, chunksize=4), total=len(todo), desc=desc):
            if error:
                quarantined.append({"path": rel, "error": error})
    return quarantined


def prune(paths: list[str], out_dir: Path) -> int:
    """Remove archives of videos that no split file names any more; return how many."""
    keep = {archive.archive_path(out_dir, p) for p in paths}
    stale = [z for z in out_dir.rglob("*.zip") if z not in keep]
    for z in stale:
        z.unlink()
    return len(stale)


def write_manifest(paths: list[str], out_dir: Path) -> pd.DataFrame:
    """``manifest.csv``: one row per extracted video with its archive, geometry and content
    checksum (so the manifest's digest changes whenever any frame does)."""
    rows = []
    for rel in paths:
        target = archive.archive_path(out_dir, rel)
        if target.exists():
            with archive.FrameArchive(target) as a:  # one open per archive: meta and checksum
                meta, crc = a.meta, a.content_crc()
            rows.append({"path": rel, "archive": str(target.relative_to(out_dir)), "frames": meta["frames"],
                         "height": meta["height"], "width": meta["width"], "crc": crc})
    manifest = pd.DataFrame(rows, columns=["path", "archive", "frames", "height", "width", "crc"])
    write_csv(out_dir / MANIFEST, manifest)
    return manifest


def prepare_dataset(cfg: ExtractConfig, name: str, root: str, splits_dir: Path, out: Path) -> tuple[Path, list[str], dict]:
    """Ready ``out/name`` for (resumed) extraction: settings marker, stale archives pruned.

    Returns the directory, every video path the dataset's split files name, and what was done.
    The marker records the root as an absolute path, so runs from any working directory agree.
    """
    root, out_dir = Path(root), Path(out) / name
    if not root.is_dir():
        raise UserError(f"params.yaml: datasets.{name}: root {root} is not a directory")
    settings = {k: v for k, v in asdict(cfg).items() if k != "workers"}
    resumed = resumable_dir(out_dir, {**settings, "root": str(root.resolve())})
    paths = split_paths(Path(splits_dir) / name)
    return out_dir, paths, {"resumed": resumed, "stale_removed": prune(paths, out_dir)}


def finish_dataset(paths: list[str], out_dir: Path, quarantined: list[dict]) -> pd.DataFrame:
    """Write ``manifest.csv`` and ``quarantine.json`` once every shard of a dataset is done."""
    manifest = write_manifest(paths, out_dir)
    write_json(out_dir / QUARANTINE, sorted(quarantined, key=lambda q: q["path"]))
    return manifest


def run(cfg: ExtractConfig, datasets: dict[str, str], splits_dir: Path, out: Path) -> dict:
    """Extract every dataset in ``datasets`` (name -> root); write manifests and quarantine reports."""
    summary = {}
    for name, root in datasets.items():
        out_dir, paths, done = prepare_dataset(cfg, name, root, splits_dir, out)
        quarantined = extract_videos(paths, Path(root), out_dir, cfg, desc=f"extract {name}")
        manifest = finish_dataset(paths, out_dir, quarantined)
        summary[name] = {"videos": len(paths), "extracted": len(manifest), "quarantined": len(quarantined), **done}
        for q in quarantined:
            print(f"quarantined: {q['error']}")
    return summary
