"""One clip as the model's input: the frames evaluation samples, from a file or its bytes, and
nothing decoded that should not be."""

from __future__ import annotations

import os
import subprocess

import pytest
import torch
from helpers import make_video

from t2l.frames.clip_input import ClipError, ClipLimits, clip_input, read_file, sampled_frames
from t2l.frames.decoders import make_decoder
from t2l.frames.sampling import segment_indices
from t2l.frames.transforms import EvalTransform


@pytest.mark.parametrize("container", ["mp4", "mkv", "avi"])
def test_a_clip_from_its_file_or_its_bytes_is_the_evaluation_input(tmp_path, container):
    video = make_video(tmp_path / f"v.{container}", frames=13, codec="libx264" if container != "avi" else "mpeg4")
    transform = EvalTransform(32, 1.0)
    expected = transform(make_decoder("decord").read(str(video), lambda n: segment_indices(n, 8)))
    from_file = clip_input(video, 8, transform)
    from_bytes = clip_input(video.read_bytes(), 8, transform)
    assert from_file.shape == (8, 3, 32, 32)
    torch.testing.assert_close(from_file, expected)
    torch.testing.assert_close(from_bytes, expected)


def test_only_regular_files_of_a_known_container_within_the_limits_are_decoded(tmp_path):
    video = make_video(tmp_path / "v.mp4", frames=8)
    os.mkfifo(tmp_path / "fifo.mp4")
    (tmp_path / "list.m3u8").write_text("#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/a.ts\n")
    transform = EvalTransform(32, 1.0)
    with pytest.raises(ClipError, match="fifo.mp4: not a regular file"):
        clip_input(tmp_path / "fifo.mp4", 8, transform)
    with pytest.raises(ClipError, match="list.m3u8: not a video file of a supported container"):
        clip_input(tmp_path / "list.m3u8", 8, transform)
    with pytest.raises(ClipError, match="frames of 32x32, over the limit of 1000 pixels"):
        clip_input(video, 8, transform, limits=ClipLimits(max_pixels=1000))
    (tmp_path / "big.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(2 << 20))
    with pytest.raises(ClipError, match="big.mp4: 2.0 MB, over the limit of 1 MB"):
        read_file(tmp_path / "big.mp4", max_bytes=1 << 20)


def test_a_stream_that_switches_to_larger_frames_midway_is_refused_frame_by_frame(tmp_path):
    """The container header says 64x64 (the first stream's), the frames after the switch are 256x256."""
    def h264(size: int) -> bytes:
        return subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc=size={size}x{size}:rate=8",
                               "-frames:v", "8", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "h264", "pipe:"],
                              check=True, capture_output=True, timeout=60).stdout
    (tmp_path / "both.h264").write_bytes(h264(64) + h264(256))
    subprocess.run(["ffmpeg", "-v", "error", "-r", "8", "-i", str(tmp_path / "both.h264"), "-c", "copy",
                    str(tmp_path / "switch.mp4")], check=True, timeout=60)
    data = (tmp_path / "switch.mp4").read_bytes()
    with pytest.raises(ClipError, match="switch.mp4: the frames change size within the stream"):
        sampled_frames(data, 8, ClipLimits(), "switch.mp4")
    with pytest.raises(ClipError, match="switch.mp4: frames of 256x256, over the limit of 16384 pixels"):
        sampled_frames(data, 8, ClipLimits(max_pixels=64 * 64 * 4), "switch.mp4")
