"""The embedded world: real H.264 files, exact time reversal, disjoint zero-shot classes."""

import json

import av
import decord
import ffmpeg
import numpy as np
import pandas as pd
from helpers import TINY_WORLD

from t2l.data.synth.captions import caption, full_caption, position_word, size_word
from t2l.data.synth.images import render_images
from t2l.data.synth.motions import PAIRS, REVERSAL
from t2l.data.synth.world import SOURCE, TARGET, class_names
from t2l.data.synth.world import run as write_world
from t2l.model.backbone import tokenizer


def decode_all(path) -> np.ndarray:
    reader = decord.VideoReader(str(path))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def test_videos_are_h264_with_the_frame_count_the_manifest_claims(world):
    manifest = pd.read_csv(world / "world.csv")
    assert len(manifest) == 2 * (2 * 2 * (2 + 1 + 1) + 1 * 2 * 1 * 2)  # pairs x 2 clips
    for row in manifest.itertuples():
        stream = ffmpeg.probe(str(world / row.dataset / row.path), select_streams="v:0", count_frames=None)["streams"][0]
        assert stream["codec_name"] == "h264"
        assert int(stream["nb_read_frames"]) == row.frames
        assert (stream["width"], stream["height"]) == (TINY_WORLD.size, TINY_WORLD.size)


def test_decord_and_pyav_return_identical_frames(world):
    manifest = pd.read_csv(world / "world.csv")
    for row in manifest.head(6).itertuples():
        path = world / row.dataset / row.path
        with av.open(str(path)) as c:
            pyav = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
        np.testing.assert_array_equal(decode_all(path), pyav)


def test_time_reversed_pairs_hold_the_same_multiset_of_frames(world):
    """Any per-frame model averaged over frames gives identical embeddings within a pair."""
    manifest = pd.read_csv(world / "world.csv")
    rng = np.random.default_rng(0)
    projection = rng.normal(size=(TINY_WORLD.size * TINY_WORLD.size * 3, 16))  # a random per-frame "model"
    pairs = manifest.groupby("pair_id")
    assert pairs.ngroups == len(manifest) // 2
    for _, pair in pairs:
        fwd = pair[~pair["reversed"]].iloc[0]
        rev = pair[pair["reversed"]].iloc[0]
        assert REVERSAL[fwd.motion] == rev.motion and fwd.shape == rev.shape
        a, b = decode_all(world / fwd.dataset / fwd.path), decode_all(world / rev.dataset / rev.path)
        np.testing.assert_array_equal(a, b[::-1])
        assert not np.array_equal(a, b), "a moving clip differs from its reversal"
        emb = lambda v: np.tanh(v.reshape(len(v), -1) / 255.0 @ projection).mean(0)  # noqa: E731
        np.testing.assert_allclose(emb(a), emb(b), rtol=0, atol=1e-12)


def test_source_and_target_classes_are_disjoint_and_cover_shape_by_motion(world):
    info = json.loads((world / "world.json").read_text())
    src, tgt = set(info["classes"][SOURCE]), set(info["classes"][TARGET])
    assert not src & tgt
    assert src == set(class_names(TINY_WORLD.source_shapes, TINY_WORLD.motions))
    assert "star rotating counterclockwise" in src and "heart moving right" in tgt
    moving_shapes = set(pd.read_csv(world / "world.csv").query("dataset == @SOURCE")["shape"])
    assert moving_shapes.isdisjoint(TINY_WORLD.target_shapes)


def test_frame_captions_say_what_where_and_how_big_and_never_name_a_motion():
    images, attributes = render_images(TINY_WORLD, 40, stream=0, workers=1)
    assert images.shape == (40, TINY_WORLD.size, TINY_WORLD.size, 3)
    again, same = render_images(TINY_WORLD, 40, stream=0, workers=2)
    np.testing.assert_array_equal(images, again)
    pd.testing.assert_frame_equal(attributes, same)
    assert not np.array_equal(images, render_images(TINY_WORLD, 40, stream=1, workers=1)[0])
    motion_verbs = {"moving", "rotating", "growing", "shrinking", "clockwise", "counterclockwise"}
    tok = tokenizer("t2l-tiny")
    rng = np.random.default_rng(0)
    for row in attributes.to_dict("records"):
        text, named = caption(row, rng)
        assert {"shape"} <= named and all(row[a] in text for a in named), (text, named)
        assert not set(text.split()) & motion_verbs and not tok.unknown(text), text
    full = full_caption({"shape": "star", "colour": "red", "background": "grey", "position": "top left", "size": "small"})
    assert full == "a small red star at the top left on a grey background"


def test_positions_and_sizes_follow_the_shape_centre_and_radius():
    assert position_word(10, 10, 64) == "top left" and position_word(32, 32, 64) == "centre"
    assert position_word(60, 32, 64) == "right" and position_word(32, 60, 64) == "bottom"
    assert size_word(0.15 * 64, 64) == "small" and size_word(0.23 * 64, 64) == "medium" and size_word(0.3 * 64, 64) == "large"


def test_deterministic_from_the_seed_and_resumable(world, tmp_path):
    out = tmp_path / "again"
    write_world(TINY_WORLD, out)
    a, b = pd.read_csv(world / "world.csv"), pd.read_csv(out / "world.csv")
    pd.testing.assert_frame_equal(a, b)
    row = a.iloc[5]
    np.testing.assert_array_equal(decode_all(world / row.dataset / row.path), decode_all(out / row.dataset / row.path))
    # a killed run leaves some clips missing and a partial file: a re-run completes the same world
    clip = out / row.dataset / row.path
    clip.unlink()
    (clip.parent / f".{clip.name}.k1ll3d.partial.mp4").write_bytes(b"half")
    write_world(TINY_WORLD, out)
    np.testing.assert_array_equal(decode_all(world / row.dataset / row.path), decode_all(out / row.dataset / row.path))
    assert not list(out.rglob("*.partial*"))


def test_every_forward_motion_has_its_reversal():
    assert all(REVERSAL[REVERSAL[m]] == m for m in REVERSAL)
    assert set(TINY_WORLD.motions) <= set(PAIRS)
