"""The ``path`` column: a file under the operator's media root, never anything else.

Off unless T2L_SERVE_MEDIA_ROOT is set. A path is taken relative to the root (an absolute one
must lie inside it), resolved with realpath so ``..`` and symlinks cannot leave it, and read as a
regular file (t2l.frames.clip_input.read_file: no FIFO, device or directory). URLs of any scheme
are refused before anything is opened; the decoder only ever sees the bytes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from t2l.frames.clip_input import ClipError, read_file

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def media_bytes(path: str, root: Path | None, max_bytes: int, name: str) -> bytes:
    if root is None:
        raise ClipError(f"{name}: this server reads no files; send the clip's bytes in `video`")
    if URL.match(path) or "\0" in path:
        raise ClipError(f"{name}: not a file path (URLs are not accepted); send the clip's bytes in `video`")
    real = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([root, real]) != str(root):
        raise ClipError(f"{name}: outside the media root")
    return read_file(real, max_bytes, name, follow=False)
