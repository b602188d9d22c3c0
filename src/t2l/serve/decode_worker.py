"""A decode worker: a child process that turns clip bytes into sampled frames, one clip at a time.

Started by t2l.serve.decode_pool as ``python -m t2l.serve.decode_worker CONFIG`` (JSON: frames,
limits, memory_mb). Every message, either way, is a prefix (header and payload lengths),
a JSON header and a raw payload: a request is {"name"} with the clip's bytes, an answer {"shape"}
with the frames' bytes or {"error"}; the first answer, {"ready"}, says the decoders are loaded.
The worker decodes only bytes it was sent, never a path or URL, without network
(t2l.serve.sandbox) and under an address-space cap (RLIMIT_AS): a clip that hangs or crashes the
decoder, or makes it allocate without bound, costs this process, which the pool kills and replaces.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
from typing import BinaryIO

import numpy as np

from t2l.frames.clip_input import MB, ClipError, ClipLimits, sampled_frames
from t2l.serve.sandbox import without_network

PREFIX = struct.Struct(">IQ")  # header length, payload length
MAX_HEADER = 1 << 16


def send(channel: BinaryIO, header: dict, payload: bytes | memoryview = b"") -> None:
    head = json.dumps(header).encode()
    channel.write(PREFIX.pack(len(head), len(payload)))
    channel.write(head)
    channel.write(payload)
    channel.flush()


def _read_exactly(channel: BinaryIO, n: int) -> bytes | None:
    data = channel.read(n)
    return data if len(data) == n else None


def receive(channel: BinaryIO) -> tuple[dict, bytes] | None:
    """The next message; None when the pool closed the channel."""
    prefix = _read_exactly(channel, PREFIX.size)
    if prefix is None:
        return None
    head_len, payload_len = PREFIX.unpack(prefix)
    if head_len > MAX_HEADER:
        return None
    head, payload = _read_exactly(channel, head_len), _read_exactly(channel, payload_len)
    if head is None or payload is None:
        return None
    return json.loads(head), payload


def serve(config: dict) -> None:
    without_network()
    cap = config["memory_mb"] * MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    requests, answers = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # whatever a decoder prints goes to the log, never into the channel
    import av  # noqa: E401, F401  (loaded before the first clip, so its time is decoding only)

    limits, frames = ClipLimits(**config["limits"]), config["frames"]
    send(answers, {"ready": True})
    while (message := receive(requests)) is not None:
        header, data = message
        try:
            clip = np.ascontiguousarray(sampled_frames(data, frames, limits, header["name"]))
        except ClipError as e:
            send(answers, {"error": str(e)})
            continue
        send(answers, {"shape": list(clip.shape)}, memoryview(clip).cast("B"))


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
