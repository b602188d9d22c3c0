"""Video decoders behind one interface: ``read(source, choose)`` returns the chosen frames.

``source`` is a path or a binary file object (e.g. ``io.BytesIO`` of an uploaded clip).
``choose(n)`` gets the clip's frame count and returns the indices to read, so each decoder
opens the file once. Backends: ``decord`` (default for videos), ``pyav`` (fallback, same
frames), ``archive`` (the frame archives of the extract stage).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import BinaryIO, Callable

import numpy as np

from t2l.frames import archive

Chooser = Callable[[int], np.ndarray]
Source = str | BinaryIO


class Decoder(ABC):
    name: str

    @abstractmethod
    def read(self, source: Source, choose: Chooser) -> np.ndarray:
        """RGB uint8 frames (len(indices), H, W, 3) at ``choose(frame_count)``."""


class DecordDecoder(Decoder):
    name = "decord"

    def read(self, source: Source, choose: Chooser) -> np.ndarray:
        import decord

        reader = decord.VideoReader(source, num_threads=1)
        return reader.get_batch(list(choose(len(reader)))).asnumpy()


class PyAVDecoder(Decoder):
    name = "pyav"

    def read(self, source: Source, choose: Chooser) -> np.ndarray:
        import av

        with av.open(source) as container:
            stream = container.streams.video[0]
            count = stream.frames
            if count <= 0:  # container without a frame count: decode to count
                count = sum(1 for _ in container.decode(stream))
                container.seek(0)
            indices = choose(count)
            wanted = set(int(i) for i in indices)
            last = max(wanted)
            got = {}
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted:
                    got[i] = frame.to_ndarray(format="rgb24")
                if i >= last:
                    break
        return np.stack([got[int(i)] for i in indices])


class ArchiveDecoder(Decoder):
    name = "archive"

    def read(self, source: Source, choose: Chooser) -> np.ndarray:
        with archive.FrameArchive(source) as a:
            return a.frames(choose(a.meta["frames"]))


DECODERS: dict[str, type[Decoder]] = {d.name: d for d in (DecordDecoder, PyAVDecoder, ArchiveDecoder)}


def make_decoder(name: str) -> Decoder:
    if name not in DECODERS:
        raise ValueError(f"unknown decoder {name!r}; choose from {', '.join(DECODERS)}")
    return DECODERS[name]()
