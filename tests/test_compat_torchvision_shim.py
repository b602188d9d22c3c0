import subprocess
import sys
from pathlib import Path

import t2l.compat.torchvision_shim as shim


def test_open_clip_imports_in_a_fresh_interpreter():
    proc = subprocess.run([sys.executable, "-c", "import open_clip, torchvision.transforms; print(open_clip.__version__)"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_no_schemas_defined_where_torchvision_extension_loads(monkeypatch):
    monkeypatch.setattr(shim, "_library", None)
    monkeypatch.setattr(shim, "_extension_loads", lambda package_dir: True)
    assert shim.register_missing_ops(Path("/nonexistent")) is False
    assert shim._library is None


def test_extension_probe_fails_on_a_directory_without_library(tmp_path):
    assert shim._extension_loads(tmp_path) is False


def test_install_is_idempotent_and_skipped_once_torchvision_is_loaded():
    import torchvision  # noqa: F401

    before = list(sys.meta_path)
    shim.install()
    assert sys.meta_path == before
