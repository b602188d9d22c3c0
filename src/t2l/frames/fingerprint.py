"""A cheap content fingerprint of a video file: its size and a sha256 of its first and last MiB.

It tells whether an archive still belongs to its video without trusting modification times,
which ``cp -p``, ``rsync -t`` and ``tar x`` carry over to new content. A re-encoded or replaced
video changes its container header or index (at one end of the file) and almost always its size;
reading at most 2 MiB per video keeps a re-run over a large dataset cheap.
"""

from __future__ import annotations

import hashlib
import os

MIB = 1 << 20


def fingerprint(path: str | os.PathLike) -> dict:
    """``{"source_bytes": size, "source_sha256": sha256 of size, first MiB and last MiB}``
    (of the whole file when it is 2 MiB or less). Nothing in it depends on where the file is."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        digest = hashlib.sha256(f"{size}\0".encode())
        if size <= 2 * MIB:
            digest.update(f.read())
        else:
            digest.update(f.read(MIB))
            f.seek(size - MIB)
            digest.update(f.read(MIB))
    return {"source_bytes": size, "source_sha256": digest.hexdigest()}
