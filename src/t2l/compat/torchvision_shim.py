"""Import-time shim that lets a CUDA build of torchvision import on a CPU-only torch.

torchvision 0.28.0 is only published as a CUDA build. On a CPU wheel of torch its compiled
extension ``_C`` cannot load, so its C++ operators are never defined, and
``torchvision/_meta_registrations.py`` fails at import with
``operator torchvision::nms does not exist`` -- which also breaks ``import open_clip``.

``scripts/setup.sh`` installs ``t2l_torchvision_shim.pth`` into the virtual environment only
where ``import torchvision`` fails that way. The ``.pth`` line calls :func:`install`, which adds
a meta-path hook costing nothing until ``torchvision`` is first imported. At that moment the
hook tries to load torchvision's own extension; only if that fails does it define the schemas
that torchvision registers fake kernels for at import time. Everything open_clip uses
(transforms, ``FrozenBatchNorm2d``) is pure Python and works; the detection operators
(``nms``, ``roi_align``, ...) stay without a kernel and raise if called. Where torchvision
imports normally the hook is a no-op.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

# Operators that torchvision registers fake (meta) kernels for unconditionally at import time;
# every other operator registration in torchvision is guarded by ``extension._has_ops()``.
MISSING_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library = None  # keeps the torch.library.Library alive: dropping it would undefine the ops


def _extension_loads(package_dir: Path) -> bool:
    import torch

    for lib in package_dir.glob("_C*.so"):
        try:
            torch.ops.load_library(str(lib))
            return True
        except (OSError, RuntimeError):
            return False
    return False


def register_missing_ops(package_dir: Path) -> bool:
    """Define torchvision's import-time operator schemas if its extension cannot load.

    Returns True when schemas were defined, False when nothing was needed.
    """
    global _library
    import torch

    if _library is not None or _extension_loads(package_dir):
        return False
    _library = torch.library.Library("torchvision", "DEF")  # noqa: TOR901 - intentional
    for schema in MISSING_SCHEMAS:
        _library.define(schema)
    return True


class _TorchvisionHook(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torchvision":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("torchvision")
        if spec is not None and spec.origin:
            register_missing_ops(Path(spec.origin).parent)
        return spec


def install() -> None:
    """Arm the hook (called from the ``.pth`` file at interpreter start)."""
    if "torchvision" not in sys.modules and not any(isinstance(f, _TorchvisionHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchvisionHook())
