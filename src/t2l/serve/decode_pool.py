"""Decoding in long-lived worker processes (t2l.serve.decode_worker), with a timeout per clip.

No process starts per request. A worker that overruns the timeout is killed and replaced; one that
dies (a decoder crash, its memory cap) or breaks the protocol is replaced too; either way only
that clip is answered with an error while the other workers go on serving.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import queue
import select
import subprocess
import sys
import time
from dataclasses import asdict

import numpy as np

from t2l.frames.clip_input import ClipError, ClipLimits, check_frame_size
from t2l.serve.decode_worker import MAX_HEADER, PREFIX, send

_log = logging.getLogger(__name__)
WAIT_FACTOR = 3  # a clip waits up to this many decode timeouts for a free worker, then PoolBusy


class PoolBusy(Exception):
    """Every decode worker stayed busy for the whole wait."""


class _Overrun(Exception):
    pass


class _Died(Exception):
    pass


class _Worker:
    def __init__(self, command: list[str]):
        self._command = command
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.ready = False

    def restart(self) -> None:
        self.stop(grace_s=0)
        self._start()

    def stop(self, grace_s: float) -> None:
        self.proc.stdin.close()  # an idle worker exits at end of input
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def _read(self, n: int, deadline: float) -> bytearray:
        buf = bytearray(n)
        view, got, fd = memoryview(buf), 0, self.proc.stdout.fileno()
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise _Overrun
            k = os.readv(fd, [view[got:]])
            if k == 0:
                raise _Died
            got += k
        return buf

    def _receive(self, deadline: float, max_payload: int) -> tuple[dict, bytearray]:
        head_len, payload_len = PREFIX.unpack(self._read(PREFIX.size, deadline))
        if head_len > MAX_HEADER or payload_len > max_payload:
            raise _Died
        try:
            header = json.loads(self._read(head_len, deadline))
        except ValueError:
            raise _Died from None
        return header, self._read(payload_len, deadline)

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        try:
            header, _ = self._receive(time.monotonic() + timeout, 0)
        except (_Overrun, _Died):
            header = {}
        if not header.get("ready"):
            self.restart()
            raise RuntimeError(f"a decode worker ({' '.join(self._command[:3])}) did not start; see its log")
        self.ready = True

    def decode(self, data: bytes, name: str, timeout: float, max_payload: int) -> tuple[dict, bytearray]:
        deadline = time.monotonic() + timeout
        try:
            send(self.proc.stdin, {"name": name}, data)
            return self._receive(deadline, max_payload)
        except _Overrun:
            _log.warning("decode worker %d killed and replaced: %s overran %g s", self.proc.pid, name, timeout)
            self.restart()
            raise ClipError(f"{name}: decoding took longer than {timeout:g} s") from None
        except (_Died, OSError):  # OSError: BrokenPipeError writing to a dead worker
            _log.warning("decode worker %d died on %s; replaced", self.proc.pid, name)
            self.restart()
            raise ClipError(f"{name}: the decoder crashed on this clip") from None


class DecodePool:
    """``workers`` decode processes for clips of ``frames`` frames (see t2l.serve.decode_worker)."""

    def __init__(self, workers: int, frames: int, limits: ClipLimits, memory_mb: int, startup_timeout_s: float = 120):
        config = {"frames": frames, "limits": asdict(limits), "memory_mb": memory_mb}
        command = [sys.executable, "-m", "t2l.serve.decode_worker", json.dumps(config)]
        self.frames, self.limits, self.startup_timeout_s = frames, limits, startup_timeout_s
        self._workers = [_Worker(command) for _ in range(workers)]
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        atexit.register(self.close)
        for worker in self._workers:
            worker.wait_ready(startup_timeout_s)
            self._idle.put(worker)

    def decode(self, data: bytes, name: str, timeout: float) -> np.ndarray:
        """The clip's sampled frames (T, H, W, 3); ClipError for a clip that fails or overruns."""
        try:
            worker = self._idle.get(timeout=WAIT_FACTOR * timeout)
        except queue.Empty:
            raise PoolBusy(f"every decoder was busy for {WAIT_FACTOR * timeout:g} s") from None
        try:
            if worker.proc.poll() is not None:  # died while idle
                worker.restart()
            worker.wait_ready(self.startup_timeout_s)
            header, payload = worker.decode(data, name, timeout, self.frames * self.limits.max_pixels * 3)
        finally:
            self._idle.put(worker)
        if "error" in header:
            raise ClipError(str(header["error"])[:500])
        return self._frames(header.get("shape"), payload, name)

    def _frames(self, shape, payload: bytearray, name: str) -> np.ndarray:
        ok = (isinstance(shape, list) and len(shape) == 4 and all(isinstance(d, int) for d in shape)
              and shape[0] == self.frames and shape[3] == 3 and math.prod(shape) == len(payload))
        if not ok:
            raise ClipError(f"{name}: the decoder answered malformed frames")
        check_frame_size(shape[2], shape[1], self.limits, name)
        return np.frombuffer(payload, np.uint8).reshape(shape)

    def close(self) -> None:
        for worker in self._workers:
            if worker.proc.poll() is None:
                worker.stop(grace_s=2)
        self._workers = []
