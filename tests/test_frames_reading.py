"""Decoders behind one interface, TSN segment sampling, normalisation and the clip dataset."""

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import make_video

from t2l.frames import archive
from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.decoders import DECODERS, make_decoder
from t2l.frames.sampling import segment_indices
from t2l.frames.transforms import CLIP_MEAN, CLIP_STD, EvalTransform
from t2l.video.ffmpeg_io import read_frames


def test_eval_sampling_takes_segment_centres():
    np.testing.assert_array_equal(segment_indices(80, 8), [5, 15, 25, 35, 45, 55, 65, 75])


def test_train_sampling_draws_one_index_inside_each_segment():
    rng = np.random.default_rng(0)
    for _ in range(50):
        idx = segment_indices(64, 8, rng)
        assert np.all(idx // 8 == np.arange(8))


def test_short_clips_repeat_frames():
    np.testing.assert_array_equal(segment_indices(3, 8), [0, 0, 0, 1, 1, 2, 2, 2])
    assert set(segment_indices(1, 8)) == {0}
    idx = segment_indices(5, 8, np.random.default_rng(1))
    assert len(idx) == 8 and idx.min() >= 0 and idx.max() <= 4 and np.all(np.diff(idx) >= 0)


def test_views_spread_evenly_inside_segments():
    views = [segment_indices(40, 4, view=v, views=2) for v in range(2)]
    np.testing.assert_array_equal(views[0], [2, 12, 22, 32])
    np.testing.assert_array_equal(views[1], [7, 17, 27, 37])


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip")
    video = make_video(d / "v.mp4", frames=20, size=32)
    archive.write(read_frames(video), d / "frames" / "v.mp4.zip", {}, quality=100)
    return d


def test_decord_and_pyav_read_the_same_frames(clip):
    pick = lambda n: np.array([0, 3, 3, n - 1])  # noqa: E731  (repeats and the last frame)
    a = make_decoder("decord").read(str(clip / "v.mp4"), pick)
    b = make_decoder("pyav").read(str(clip / "v.mp4"), pick)
    assert a.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(a, b)
    c = make_decoder("archive").read(str(clip / "frames" / "v.mp4.zip"), pick)
    assert np.abs(c.astype(int) - a).mean() < 1.0


def test_unknown_decoder_is_named():
    with pytest.raises(ValueError, match="unknown decoder 'opencv'; choose from " + ", ".join(DECODERS)):
        make_decoder("opencv")


@pytest.mark.parametrize("decoder, root", [("archive", "frames"), ("decord", "."), ("pyav", ".")])
def test_dataset_yields_normalised_clips(clip, decoder, root):
    split = pd.DataFrame({"path": ["v.mp4", "v.mp4"], "label": [3, 3]})
    ds = VideoClipDataset(split, FrameSource(decoder, clip / root), num_frames=8, transform=EvalTransform(32, 1.0))
    x, label, index = ds[1]
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and (label, index) == (3, 1)
    raw = make_decoder("decord").read(str(clip / "v.mp4"), lambda n: segment_indices(n, 8))
    expected = (torch.from_numpy(raw).permute(0, 3, 1, 2) / 255.0 - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) \
        / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    error = (x - expected.float()).abs()
    assert error.mean() < 0.01 if decoder == "archive" else error.max() < 1e-5  # archives are JPEG


def test_training_clips_are_reproducible_per_epoch(clip):
    split = pd.DataFrame({"path": ["v.mp4"], "label": [0]})
    ds = VideoClipDataset(split, FrameSource("archive", clip / "frames"), 4, EvalTransform(32, 1.0), train=True, seed=7)
    first = ds[0][0]
    assert torch.equal(first, ds[0][0])
    ds.set_epoch(1)
    assert not torch.equal(first, ds[0][0])


def test_train_augmentation_is_one_draw_per_clip_and_reproducible():
    from t2l.frames.transforms import TrainTransform

    rng = np.random.default_rng(0)
    static = np.repeat(rng.integers(0, 255, (1, 48, 64, 3), dtype=np.uint8), 6, axis=0)  # one frame, 6 times
    t = TrainTransform(32, 1.0, flip=True)
    for seed in range(10):
        x = t(static, np.random.default_rng(seed))
        assert x.shape == (6, 3, 32, 32)
        assert torch.equal(x[0], x[-1]), "every frame of a clip gets the same crop, flip and colours"
        assert torch.equal(x, t(static, np.random.default_rng(seed)))
    draws = {t(static, np.random.default_rng(s))[0].sum().item() for s in range(10)}
    assert len(draws) > 5


def test_flip_can_be_switched_off_for_direction_labels():
    from t2l.frames.transforms import TrainTransform

    ramp = np.tile(np.linspace(0, 255, 32, dtype=np.uint8)[None, None, :, None], (2, 32, 1, 3))  # dark left, bright right
    t = TrainTransform(32, 1.0, flip=False, jitter_p=0.0, grayscale_p=0.0)
    for seed in range(20):
        x = t(ramp, np.random.default_rng(seed))
        assert x[0, 0, :, 0].mean() < x[0, 0, :, -1].mean()
