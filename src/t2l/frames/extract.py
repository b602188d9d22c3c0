"""The ``extract`` stage: decode each video once into a frame archive; quarantine bad videos.

Resumable and kill-safe: frames stream from ffmpeg into an archive written under a temporary
name and renamed; a video whose archive records its current content fingerprint is skipped on a
re-run; leftovers of a killed run are removed before starting; a worker that dies (the OOM
killer) ends the run with an error naming its video. Split rows whose video lies outside the
dataset root (symlinks followed) stop the run before anything is written.

Nothing written depends on where the project or the dataset lives, nor on when or how fast it
ran: the settings marker holds the settings only, quarantine reasons name videos by their split
path, and archives are byte-for-byte the same for the same video and settings.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Iterator, Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from t2l.data.splits.schema import dataset_info, read_table
from t2l.errors import UserError
from t2l.frames import archive, containment, pool
from t2l.frames.fingerprint import fingerprint
from t2l.frames.sampling import segment_indices
from t2l.fsio import resumable_dir, write_csv, write_json
from t2l.params import Count, NonNegative, Range
from t2l.video.ffmpeg_io import VideoError, frame_count, iter_frames

MANIFEST, QUARANTINE = "manifest.csv", "quarantine.json"


@dataclass(frozen=True)
class ExtractConfig:
    short_side: NonNegative = 0  # 0 keeps the native size
    jpeg_quality: Annotated[int, Range(at_least=1, at_most=100)] = 95  # PIL's JPEG quality scale
    jpeg_chroma: Literal["full", "half"] = "full"  # colour at full resolution, or halved as H.264 stores it
    frames_per_video: NonNegative = 0  # 0 stores every frame; n stores n evenly spaced ones (segment centres)
    min_frames: Count = 2
    strict: bool = True  # a corrupt packet anywhere quarantines the video (ffmpeg -xerror)
    workers: Count = 2


def _at_least(frames: Iterator[np.ndarray], n: int, video: Path) -> Iterator[np.ndarray]:
    """``frames``, then a VideoError if there were fewer than ``n``."""
    count = 0
    for count, frame in enumerate(frames, 1):  # noqa: B007 - the count is read after the loop
        yield frame
    if count < n:
        raise VideoError(f"{video}: only {count} frame(s); at least {n} needed (extract.min_frames)")


def archive_frames(video: Path, cfg: ExtractConfig) -> Iterator[np.ndarray]:
    """The frames of ``video`` its archive stores, as they are decoded: every frame, or with
    ``frames_per_video`` the centres of that many equal segments (what a T-frame sampler draws
    from, T <= frames_per_video), so a longer video costs no more disk than a short one."""
    frames = _at_least(iter_frames(video, cfg.short_side, cfg.strict), cfg.min_frames, video)
    n = frame_count(video) if cfg.frames_per_video else 0
    if n <= cfg.frames_per_video:
        return frames
    keep = set(segment_indices(n, cfg.frames_per_video).tolist())
    return (frame for i, frame in enumerate(frames) if i in keep)


def extract_one(video: Path, target: Path, cfg: ExtractConfig) -> dict:
    """Stream the frames of ``video`` into its archive, with the video's content fingerprint in
    the archive's meta; raise VideoError, leaving no archive, if the video cannot be used."""
    try:
        source = fingerprint(video)  # before decoding: a video replaced meanwhile is redone next run
    except FileNotFoundError:
        raise VideoError(f"{video}: no such file") from None
    except OSError as e:
        raise VideoError(f"{video}: cannot read the file ({e.strerror or e})") from None
    return archive.write(archive_frames(video, cfg), target, {"source": Path(video).name, **source}, cfg.jpeg_quality,
                         cfg.jpeg_chroma)


def _reason(error: Exception, video: Path, rel: str) -> str:
    """Why ``video`` was quarantined, naming it by its split path only (no root in outputs)."""
    if isinstance(error, VideoError):
        text = str(error).removeprefix(f"{video}: ")
    elif isinstance(error, FileNotFoundError):
        text = "no such file"
    else:
        text = f"cannot read the file ({getattr(error, 'strerror', None) or error})"
    return text.replace(str(video), rel)


def _work(args: tuple[str, Path, Path, ExtractConfig]) -> tuple[str, str | None]:
    """(path, None) once the video's archive is current; (path, reason) for a video that cannot be used."""
    rel, root, out_dir, cfg = args
    video, target = root / rel, archive.archive_path(out_dir, rel)
    try:
        if not archive.is_current(target, video):
            extract_one(video, target, cfg)
        return rel, None
    except (VideoError, OSError) as e:
        target.unlink(missing_ok=True)  # frames of what the video was before are not its frames
        return rel, _reason(e, video, rel)


def split_rows(split_dir: Path) -> list[tuple[Path, int, str]]:
    """``(split file, line, path)`` for every row with a path of every split file of a dataset."""
    rows = []
    for split in dataset_info(split_dir)["splits"].values():
        file = Path(split_dir) / split["file"]
        paths = read_table(file).get("path")
        if paths is None:
            raise UserError(f"{file}: no column path (the split files are checked by `t2l validate`)")
        rows += [(file, i + 2, p) for i, p in paths.dropna().items()]  # line 1 is the header
    return rows


def split_paths(split_dir: Path) -> list[str]:
    """Every video path named by any split file of a dataset, de-duplicated, sorted."""
    return sorted({rel for _, _, rel in split_rows(split_dir)})


def extract_videos(paths: list[str], root: Path, out_dir: Path, cfg: ExtractConfig, desc: str = "extract") -> list[dict]:
    """Bring the archive of every video in ``paths`` up to date; return quarantine entries
    (``{"path", "error"}``) for videos that cannot be used.

    Raises UnsafePath before any work if a path leaves ``root`` or its archive ``out_dir``, and
    a UserError naming the video if a worker dies (archives finished before are kept).
    """
    root, out_dir = Path(root), Path(out_dir)
    containment.check_paths(paths, root, out_dir)
    quarantined = []
    if not paths:
        return quarantined
    work = ((rel, root, out_dir, cfg) for rel in paths)
    try:
        with pool.Workers(_work, min(cfg.workers, len(paths))) as workers:
            for rel, error in tqdm(workers.imap_unordered(work), total=len(paths), desc=desc):
                if error:
                    quarantined.append({"path": rel, "error": error})
    except pool.WorkerDied as e:
        who = f"{root / e.item[0]}: the extraction worker" if e.item else "an extraction worker, between two videos,"
        oom = " (out of memory?)" if e.exitcode == -signal.SIGKILL else ""  # what the OOM killer sends
        raise UserError(f"{who} {pool.how(e.exitcode)}{oom}; archives finished before are kept and a re-run "
                        "resumes from them") from None
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
    Nothing is written if a split row's video lies outside ``root`` (UnsafePath naming the file
    and line). The marker holds the settings only, no path: each archive records its video's
    content fingerprint instead, so the same dataset extracted anywhere gives the same files.
    """
    root, out_dir = Path(root), Path(out) / name
    if not root.is_dir():
        raise UserError(f"params.yaml: datasets.{name}: root {root} is not a directory")
    rows = split_rows(Path(splits_dir) / name)
    containment.check_rows(rows, root, out_dir)
    paths = sorted({rel for _, _, rel in rows})
    resumed = resumable_dir(out_dir, {k: v for k, v in asdict(cfg).items() if k != "workers"})
    return out_dir, paths, {"resumed": resumed, "stale_removed": prune(paths, out_dir)}


def finish_dataset(paths: list[str], out_dir: Path, quarantined: list[dict]) -> pd.DataFrame:
    """Write ``manifest.csv`` (every path not quarantined that has an archive) and
    ``quarantine.json`` once every shard of a dataset is done."""
    bad = {q["path"] for q in quarantined}
    manifest = write_manifest([p for p in paths if p not in bad], out_dir)
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
            print(f"quarantined: {Path(root) / q['path']}: {q['error']}")
    return summary
