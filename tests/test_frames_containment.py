"""The path checks of extract and validate: RealPaths resolves as os.path.realpath does."""

import os

from t2l.fsio import RealPaths, resolves_inside


def test_real_paths_resolve_as_realpath_does(tmp_path, monkeypatch):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a/b").mkdir(parents=True)
    outside.mkdir()
    (root / "a/b/v.mp4").write_bytes(b"x")
    (outside / "w.mp4").write_bytes(b"y")
    (root / "file_link.mp4").symlink_to(outside / "w.mp4")
    (root / "relative_link.mp4").symlink_to("a/b/v.mp4")
    (root / "dir_link").symlink_to(outside, target_is_directory=True)
    (root / "a/up").symlink_to("..", target_is_directory=True)
    (root / "dangling.mp4").symlink_to(tmp_path / "nowhere.mp4")
    (root / "chain.mp4").symlink_to(root / "file_link.mp4")
    names = ["a/b/v.mp4", "file_link.mp4", "relative_link.mp4", "dir_link/w.mp4", "a/up/a/b/v.mp4", "dangling.mp4",
             "chain.mp4", "missing/x.mp4", "a/b/", "a/.", "a/b/.."]
    monkeypatch.chdir(tmp_path)
    real = RealPaths()
    for base in (str(root), "root"):  # absolute and relative to the working directory
        for name in names:
            path = os.path.join(base, name)
            assert real(path) == os.path.realpath(path), path
            assert real.inside(base, path) == resolves_inside(base, path), path
    inside = {n: real.inside(root, root / n) for n in names}
    assert not inside["file_link.mp4"] and not inside["dir_link/w.mp4"] and not inside["chain.mp4"]
    assert not inside["dangling.mp4"] and inside["relative_link.mp4"] and inside["a/up/a/b/v.mp4"]
