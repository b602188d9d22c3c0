"""Frame extraction: one archive per video, quarantine for bad input, kill-safe resume."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import BIN, REPO, TINY_WORLD, make_video, moving_square, world_params, write_splits

from t2l.data.splits.schema import classes_frame, split_frame, write_dataset
from t2l.data.synth.world import SOURCE, TARGET
from t2l.data.synth.world import run as write_world
from t2l.errors import UserError
from t2l.frames import archive
from t2l.frames.extract import MANIFEST, QUARANTINE, ExtractConfig, extract_videos, run
from t2l.frames.fingerprint import fingerprint
from t2l.fsio import JOB_MARKER
from t2l.video.ffmpeg_io import read_frames

CFG = ExtractConfig(workers=2)


def one_dataset(root, out, files):
    cmap = classes_frame(["thing"])
    rows = pd.DataFrame({"path": files, "class_name": "thing"})
    write_dataset(out, "bad", str(root), cmap, {"test": split_frame(rows, cmap, "test", "bad")})


def test_bad_videos_are_quarantined_and_good_ones_extracted(tmp_path):
    root = tmp_path / "videos"
    good = make_video(root / "good.mp4", frames=12)
    data = good.read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 2])  # moov atom lost
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(good), "-c", "copy", "-movflags", "faststart",
                    str(root / "fast.mp4")], check=True)
    fast = (root / "fast.mp4").read_bytes()
    (root / "truncated_faststart.mp4").write_bytes(fast[: int(len(fast) * 0.7)])  # index kept, data cut
    (root / "empty.mp4").write_bytes(b"")
    (root / "text.mp4").write_text("this is not a video\n")
    make_video(root / "one_frame.mp4", frames=1)
    files = ["good.mp4", "truncated.mp4", "truncated_faststart.mp4", "empty.mp4", "text.mp4", "one_frame.mp4"]
    one_dataset(root, tmp_path / "splits", files)

    summary = run(CFG, {"bad": str(root)}, tmp_path / "splits", tmp_path / "frames")["bad"]
    assert summary == {"videos": 6, "extracted": 1, "quarantined": 5, "resumed": False, "stale_removed": 0}
    quarantine = {q["path"]: q["error"] for q in json.loads((tmp_path / "frames" / "bad" / QUARANTINE).read_text())}
    assert set(quarantine) == set(files) - {"good.mp4"}
    for error in quarantine.values():  # named by the row's path: no absolute path in an output
        assert str(tmp_path) not in error
    assert "empty file" in quarantine["empty.mp4"]
    assert "not a readable video" in quarantine["text.mp4"] and "moov atom not found" in quarantine["truncated.mp4"]
    assert "not a readable video" in quarantine["truncated_faststart.mp4"]
    assert "only 1 frame(s)" in quarantine["one_frame.mp4"]
    manifest = pd.read_csv(tmp_path / "frames" / "bad" / MANIFEST)
    with archive.FrameArchive(tmp_path / "frames" / "bad" / "good.mp4.zip") as a:
        crc = a.content_crc()
    assert manifest.to_dict("records") == [{"path": "good.mp4", "archive": "good.mp4.zip", "frames": 12,
                                            "height": 32, "width": 32, "crc": crc}]


def test_archives_hold_the_decoded_frames(tmp_path):
    root = tmp_path / "videos"
    make_video(root / "a.mp4", frames=9, size=48)
    one_dataset(root, tmp_path / "splits", ["a.mp4"])
    run(replace(CFG, jpeg_quality=100), {"bad": str(root)}, tmp_path / "splits", tmp_path / "frames")
    decoded = read_frames(root / "a.mp4")
    with archive.FrameArchive(tmp_path / "frames" / "bad" / "a.mp4.zip") as a:
        assert a.meta["frames"] == 9
        stored = a.frames(range(9))
    assert np.abs(stored.astype(int) - decoded).mean() < 1.0  # JPEG, 4:4:4, quality 100


def test_a_video_rewritten_after_extraction_is_extracted_again(tmp_path):
    root, frames = tmp_path / "videos", tmp_path / "frames"
    make_video(root / "a.mp4", frames=9, size=48)
    one_dataset(root, tmp_path / "splits", ["a.mp4"])
    run(CFG, {"bad": str(root)}, tmp_path / "splits", frames)
    target, manifest = frames / "bad" / "a.mp4.zip", frames / "bad" / MANIFEST
    stamp, crc = target.stat().st_mtime_ns, pd.read_csv(manifest)["crc"][0]
    run(CFG, {"bad": str(root)}, tmp_path / "splits", frames)
    assert target.stat().st_mtime_ns == stamp  # up to date: skipped

    make_video(root / "a.mp4", frames=12, size=48, seed=1)  # same name, new content (`t2l synth`, other seed)
    os.utime(root / "a.mp4", ns=(stamp + 10**9, stamp + 10**9))
    run(CFG, {"bad": str(root)}, tmp_path / "splits", frames)
    assert archive.read_meta(target)["frames"] == 12
    assert pd.read_csv(manifest)["crc"][0] != crc


def test_short_side_resize_keeps_aspect(tmp_path):
    root = tmp_path / "videos"
    from t2l.video.ffmpeg_io import write_video

    write_video(np.repeat(moving_square(6, 64), 1, 0)[:, :48, :], root / "wide.mp4", fps=8)  # 64 wide, 48 high
    frames = read_frames(root / "wide.mp4", short_side=24)
    assert frames.shape == (6, 24, 32, 3)


def test_changed_settings_restart_and_stale_archives_go(tmp_path):
    root = tmp_path / "videos"
    for name in ("a.mp4", "b.mp4"):
        make_video(root / name)
    one_dataset(root, tmp_path / "splits", ["a.mp4", "b.mp4"])
    datasets, splits, frames = {"bad": str(root)}, tmp_path / "splits", tmp_path / "frames"
    run(CFG, datasets, splits, frames)
    again = run(CFG, datasets, splits, frames)["bad"]
    assert again["resumed"] and again["extracted"] == 2
    one_dataset(root, splits, ["a.mp4"])
    assert run(CFG, datasets, splits, frames)["bad"]["stale_removed"] == 1
    assert run(replace(CFG, short_side=16), datasets, splits, frames)["bad"]["resumed"] is False
    assert archive.read_meta(frames / "bad" / "a.mp4.zip")["height"] == 16


def test_refuses_to_clear_a_directory_it_did_not_write(tmp_path):
    root = tmp_path / "videos"
    make_video(root / "a.mp4")
    one_dataset(root, tmp_path / "splits", ["a.mp4"])
    (tmp_path / "frames" / "bad").mkdir(parents=True)
    (tmp_path / "frames" / "bad" / "precious.txt").write_text("keep me")
    with pytest.raises(Exception, match="not written by t2l"):
        run(CFG, {"bad": str(root)}, tmp_path / "splits", tmp_path / "frames")
    assert (tmp_path / "frames" / "bad" / "precious.txt").exists()


def test_sigkill_mid_run_then_resume_matches_a_clean_run(tmp_path):
    world = tmp_path / "world"
    write_world(replace(TINY_WORLD, size=64, frames=(30, 40), source_clips_per_class={"train": 6}), world)
    write_splits(world, tmp_path / "splits")
    params = tmp_path / "params.yaml"
    params.write_text(world_params(world, extract={"jpeg_quality": 95, "min_frames": 2, "workers": 1}))
    cmd = [str(BIN / "t2l"), "extract", "--splits-dir", str(tmp_path / "splits"), "--out", str(tmp_path / "killed"),
           "--params", str(params)]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(list((tmp_path / "killed").rglob("*.zip"))) < 8 and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    total = len(pd.read_csv(world / "world.csv"))
    done_before = len(list((tmp_path / "killed").rglob("*.zip")))
    assert 8 <= done_before < total, "the kill must land mid-run"

    subprocess.run(cmd, check=True, capture_output=True)
    subprocess.run([*cmd[:5], str(tmp_path / "clean"), *cmd[6:]], check=True, capture_output=True)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    assert not [p for p in killed.rglob("*") if ".partial" in p.name]
    names = lambda d: sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())  # noqa: E731
    assert names(killed) == names(clean)
    for ds in (SOURCE, TARGET):
        a, b = pd.read_csv(killed / ds / MANIFEST), pd.read_csv(clean / ds / MANIFEST)
        pd.testing.assert_frame_equal(a, b)
        assert json.loads((killed / ds / JOB_MARKER).read_text()) == json.loads((clean / ds / JOB_MARKER).read_text())
        for rel in a["archive"]:  # byte for byte: DVC hashes of equal frames never differ between runs
            assert (killed / ds / rel).read_bytes() == (clean / ds / rel).read_bytes()


def lavfi_video(path, size, frames):
    """A real H.264 file of ffmpeg's test pattern (quick to make at any size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25", "-frames:v",
                    str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def parent_pid(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def kill_worker_decoding(video, sig=signal.SIGKILL, timeout=30.0):
    """A thread that sends ``sig`` (SIGKILL: what the OOM killer sends) to this test's worker
    process whose ffmpeg child decodes ``video``; the dict it returns gets the worker's pid."""
    killed, name = {}, str(video).encode()

    def watch():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not killed:
            for proc in Path("/proc").iterdir():
                try:
                    cmd = (proc / "cmdline").read_bytes().split(b"\0") if proc.name.isdigit() else []
                    if cmd and cmd[0].endswith(b"ffmpeg") and name in cmd:
                        worker = parent_pid(proc.name)
                        if parent_pid(worker) == os.getpid():  # only a worker of this test
                            os.kill(worker, sig)
                            killed["pid"] = worker
                            break
                except (OSError, ValueError, IndexError):  # a process that ended while we looked
                    pass
            time.sleep(0.002)

    threading.Thread(target=watch, daemon=True).start()
    return killed


@pytest.mark.timeout(60)  # the old multiprocessing.Pool waited forever for the killed worker's result
@pytest.mark.parametrize("sig, how, workers", [(signal.SIGKILL, "was killed by SIGKILL (out of memory?); ", 1),
                                               (signal.SIGTERM, "was killed by SIGTERM; ", 1),
                                               (signal.SIGKILL, "was killed by SIGKILL (out of memory?); ", 2)])
def test_a_killed_worker_ends_the_run_naming_its_video_and_a_rerun_resumes(tmp_path, sig, how, workers):
    root, splits, frames = tmp_path / "videos", tmp_path / "splits", tmp_path / "frames"
    make_video(root / "a.mp4")
    make_video(root / "b.mp4", seed=1)
    slow = lavfi_video(root / "z_slow.mp4", "640x480", 120)  # sorted last: decoded after a and b
    one_dataset(root, splits, ["a.mp4", "b.mp4", "z_slow.mp4"])
    killed, cfg = kill_worker_decoding(slow, sig), replace(CFG, workers=workers)
    with pytest.raises(UserError) as err:
        run(cfg, {"bad": str(root)}, splits, frames)
    assert killed, "no worker was killed"
    message = str(err.value)
    assert message.startswith(f"{slow}: the extraction worker {how}")
    assert "\n" not in message and "re-run resumes" in message
    assert not os.path.exists(f"/proc/{killed['pid']}")  # reaped, not left a zombie
    kept = {n: z.stat().st_mtime_ns for n in ("a.mp4", "b.mp4") if (z := frames / "bad" / f"{n}.zip").exists()}
    assert len(kept) == 2 or workers > 1  # with two, the other worker may have been ended mid-video
    assert not (frames / "bad" / "z_slow.mp4.zip").exists() and not (frames / "bad" / MANIFEST).exists()

    assert run(cfg, {"bad": str(root)}, splits, frames)["bad"]["resumed"]
    assert {n: (frames / "bad" / f"{n}.zip").stat().st_mtime_ns for n in kept} == kept
    assert list(pd.read_csv(frames / "bad" / MANIFEST)["path"]) == ["a.mp4", "b.mp4", "z_slow.mp4"]
    assert not [p for p in frames.rglob("*") if ".partial" in p.name]


PEAK_RSS = """
import resource, sys
from pathlib import Path
from t2l.frames.extract import ExtractConfig, extract_one
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
extract_one(Path(sys.argv[1]), Path(sys.argv[2]), ExtractConfig(jpeg_quality=80))
print(before * 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def test_frames_stream_from_ffmpeg_into_the_archive_in_bounded_memory(tmp_path):
    video = lavfi_video(tmp_path / "v.mp4", "640x480", 120)
    decoded = 120 * 640 * 480 * 3  # 110 MB of RGB frames; decoding it whole took twice that
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, str(video), str(tmp_path / "v.mp4.zip")],
                          check=True, capture_output=True, text=True)
    before, peak = map(int, proc.stdout.split())
    assert archive.read_meta(tmp_path / "v.mp4.zip")["frames"] == 120
    assert peak - before < decoded / 4, f"extraction grew the process by {(peak - before) / 2**20:.0f} MiB"


@pytest.mark.parametrize("bad, why", [
    ("../../outside.mp4", "climbs out of the dataset root"),
    ("OUTSIDE", "is absolute"),
    ("link.mp4", "resolves outside the dataset root"),
    ("linked_dir/v.mp4", "resolves outside the dataset root"),
])
def test_a_row_outside_the_dataset_root_stops_extraction_naming_file_and_line(tmp_path, bad, why):
    root, splits, out = tmp_path / "data/videos", tmp_path / "splits", tmp_path / "work/frames"
    make_video(root / "good.mp4")
    outside = make_video(tmp_path / "elsewhere/outside.mp4", seed=2)
    make_video(tmp_path / "elsewhere/v.mp4", seed=3)
    (root / "link.mp4").symlink_to(outside)
    (root / "linked_dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    bad = str(outside) if bad == "OUTSIDE" else bad
    one_dataset(root, splits, ["good.mp4", bad])
    line = list(pd.read_csv(splits / "bad/test.csv")["path"]).index(bad) + 2
    with pytest.raises(UserError) as err:  # the split file was never validated
        run(CFG, {"bad": str(root)}, splits, out)
    message = str(err.value)
    assert message.startswith(f"{splits / 'bad/test.csv'}: line {line}: path {bad!r}") and why in message
    assert "\n" not in message
    assert not list(tmp_path.rglob("*.zip")) and not out.exists()  # nothing read, nothing written
    with pytest.raises(UserError, match=why):  # a caller with bare paths (a shard) is refused too
        extract_videos(["good.mp4", bad], root, out / "bad", CFG)
    assert not list(tmp_path.rglob("*.zip"))


def test_a_video_replaced_with_its_old_mtime_is_extracted_again(tmp_path):
    root, frames = tmp_path / "videos", tmp_path / "frames"
    make_video(root / "a.mp4", frames=9)
    replacement = make_video(tmp_path / "staging/a.mp4", frames=12, seed=1)  # older than the archive below
    one_dataset(root, tmp_path / "splits", ["a.mp4"])
    run(CFG, {"bad": str(root)}, tmp_path / "splits", frames)
    target = frames / "bad/a.mp4.zip"
    assert archive.read_meta(target)["frames"] == 9

    subprocess.run(["cp", "-p", str(replacement), str(root / "a.mp4")], check=True)  # mtime kept, as rsync -t
    assert (root / "a.mp4").stat().st_mtime_ns < target.stat().st_mtime_ns
    run(CFG, {"bad": str(root)}, tmp_path / "splits", frames)
    meta = archive.read_meta(target)
    assert meta["frames"] == 12
    assert {k: meta[k] for k in ("source_bytes", "source_sha256")} == fingerprint(replacement)


def test_the_fingerprint_sees_content_not_names_or_times(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    data = bytearray(os.urandom(3 << 20))
    a.write_bytes(data)
    data[100] ^= 1  # same size, one bit changed in the first MiB
    b.write_bytes(data)
    os.utime(b, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns))
    assert fingerprint(a) != fingerprint(b)
    shutil.copy(a, tmp_path / "moved.bin")
    assert fingerprint(tmp_path / "moved.bin") == fingerprint(a)


def test_outputs_do_not_depend_on_where_the_project_lives(tmp_path, monkeypatch):
    """The same dataset extracted in two clones at different paths (one run with the relative
    roots of params.yaml, one with absolute ones, as the Prefect flow) gives the same bytes in
    every output file, marker, manifest and quarantine report included."""
    first = tmp_path / "a/project"
    make_video(first / "videos/x/good.mp4", frames=6)
    make_video(first / "videos/y/other.mp4", frames=5, seed=1)
    (first / "videos/x/text.mp4").write_text("not a video\n")
    data = (first / "videos/x/good.mp4").read_bytes()
    (first / "videos/y/truncated.mp4").write_bytes(data[: len(data) // 2])
    one_dataset(Path("videos"), first / "splits", ["x/good.mp4", "x/text.mp4", "y/other.mp4", "y/truncated.mp4"])
    second = Path(shutil.copytree(first, tmp_path / "b/deeper/clone/project"))

    monkeypatch.chdir(first)
    assert run(CFG, {"bad": "videos"}, Path("splits"), Path("frames"))["bad"]["quarantined"] == 2
    monkeypatch.chdir(tmp_path)
    run(CFG, {"bad": str(second / "videos")}, second / "splits", second / "frames")

    files = lambda d: sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())  # noqa: E731
    assert files(first / "frames") == files(second / "frames")
    assert {JOB_MARKER, MANIFEST, QUARANTINE} <= {Path(f).name for f in files(first / "frames")}
    for rel in files(first / "frames"):
        assert (first / "frames" / rel).read_bytes() == (second / "frames" / rel).read_bytes(), rel
        assert str(tmp_path).encode() not in (first / "frames" / rel).read_bytes()


def test_a_configured_dataset_without_splits_is_a_clear_error(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "splits").mkdir()
    with pytest.raises(UserError, match=rf"^{tmp_path / 'splits/bad'}: no canonical splits of dataset 'bad'"):
        run(CFG, {"bad": str(tmp_path / "videos")}, tmp_path / "splits", tmp_path / "frames")
    assert not (tmp_path / "frames").exists()


@pytest.mark.parametrize("cfg", [ExtractConfig(short_side=32, jpeg_quality=90),
                                 ExtractConfig(short_side=32, jpeg_quality=80, jpeg_chroma="half", frames_per_video=8)],
                         ids=["every-frame", "eight-frames-half-chroma"])
def test_the_footprint_estimate_measures_what_an_archive_stores(tmp_path, cfg):
    import zipfile

    from t2l.frames.extract import extract_one
    from t2l.frames.footprint import archived_bytes, estimate

    videos = [make_video(tmp_path / f"v{i}.mp4", frames=6 + 4 * i, size=48, seed=i) for i in range(3)]
    stored = []
    for v in videos:
        extract_one(v, tmp_path / f"{v.name}.zip", cfg)
        with zipfile.ZipFile(tmp_path / f"{v.name}.zip") as z:
            stored.append(sum(i.file_size for i in z.infolist() if i.filename != archive.META))
    assert [archived_bytes(v, cfg)[1] for v in videos] == stored
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    f = estimate(tmp_path, [v.name for v in videos] + ["broken.mp4"], cfg, sample=4)
    assert (f.videos, f.sampled) == (4, 3)
    assert f.frames_per_video == (10.0 if not cfg.frames_per_video else (6 + 8 + 8) / 3)
    assert f.total_bytes == pytest.approx(4 * sum(stored) / 3)


def test_frames_per_video_stores_the_segment_centres_of_every_frame(tmp_path):
    from t2l.frames.extract import extract_one
    from t2l.frames.sampling import segment_indices

    video = make_video(tmp_path / "v.mp4", frames=40, size=48)
    full = extract_one(video, tmp_path / "full.zip", ExtractConfig())
    some = extract_one(video, tmp_path / "some.zip", ExtractConfig(frames_per_video=8))
    assert (full["frames"], some["frames"]) == (40, 8)
    with archive.FrameArchive(tmp_path / "full.zip") as a, archive.FrameArchive(tmp_path / "some.zip") as b:
        assert np.array_equal(b.frames(range(8)), a.frames(segment_indices(40, 8)))
    half = extract_one(video, tmp_path / "half.zip", ExtractConfig(jpeg_chroma="half"))
    assert half["frames"] == 40 and (tmp_path / "half.zip").stat().st_size < (tmp_path / "full.zip").stat().st_size



def alive(procs) -> list:
    """Those of ``procs`` (psutil processes) still running (a zombie has ended)."""
    import psutil

    def running(p):
        try:
            return p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    return [p for p in procs if running(p)]


def name(p) -> str:
    """A process's name, "" once it has ended."""
    import psutil

    try:
        return p.name()
    except psutil.NoSuchProcess:
        return ""


SHARD_PARENT = """
import os, subprocess, sys
env = {**os.environ, "PYTHONPATH": sys.argv[1]}
subprocess.run([sys.executable, "-m", "pipelines.shard", "bad", "0", "1"], env=env, stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)  # no broken pipe tells the shard its parent is gone
"""


@pytest.mark.timeout(90)
@pytest.mark.parametrize("killed, sig", [("t2l extract", signal.SIGKILL), ("t2l extract", signal.SIGTERM),
                                         ("a shard's parent", signal.SIGKILL)])
def test_no_worker_outlives_a_killed_extraction(tmp_path, killed, sig):
    """A Prefect or DVC cancellation kills one process: no shard, worker or decoder outlives it."""
    import psutil
    import yaml

    root = tmp_path / "videos"
    slow = lavfi_video(root / "v00.mp4", "640x480", 120)  # about a second's work each
    for i in range(1, 60):  # half a minute's work on two workers: longer than the test waits
        os.link(slow, root / f"v{i:02}.mp4")
    one_dataset(root, tmp_path / "data/splits", sorted(p.name for p in root.iterdir()))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({
        "datasets": {"bad": {"adapter": "synthetic", "root": str(root), "watch": str(root)}}, "extract": {"workers": 2}}))
    cmd = [str(BIN / "t2l"), "extract"] if killed == "t2l extract" else [sys.executable, "-c", SHARD_PARENT, str(REPO)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    main, deadline, family = psutil.Process(proc.pid), time.time() + 60, []
    try:
        while time.time() < deadline and "ffmpeg" not in map(name, family):  # the workers started, one decoding
            family = main.children(recursive=True)
            time.sleep(0.02)
        assert "ffmpeg" in map(name, family), "the workers never started"
        os.kill(proc.pid, sig)
        proc.wait()
        end = time.time() + 10
        while alive(family) and time.time() < end:
            time.sleep(0.05)
        assert not alive(family), f"outlived the killed process: {[(p.pid, name(p)) for p in alive(family)]}"
    finally:
        for p in alive(family):
            p.kill()
