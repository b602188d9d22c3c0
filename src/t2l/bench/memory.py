"""Peak memory of a block of work: CUDA allocator statistics on GPU, sampled RSS on CPU."""

from __future__ import annotations

import ctypes
import os
import threading
import time
from contextlib import contextmanager

import torch

_PAGE = os.sysconf("SC_PAGE_SIZE")
_M_MMAP_THRESHOLD = -3


def _glibc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def make_rss_track_allocations() -> None:
    """Serve every allocation over 128 KiB with its own mmap (glibc), so freeing it returns it
    to the OS at once and RSS follows the live tensors; also trim what the heap holds now.
    A fixed threshold stops glibc from raising it after large frees (its default behaviour)."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
        libc.malloc_trim(0)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


@contextmanager
def peak_memory(device: torch.device):
    """Yield a dict that gets ``peak_mb``: the most memory the block held above its start.

    GPU: ``torch.cuda.max_memory_allocated``. CPU: resident set size sampled every 0.5 ms by
    a thread, with large allocations forced onto their own mappings (make_rss_track_allocations).
    """
    out: dict = {}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        yield out
        torch.cuda.synchronize(device)
        out["peak_mb"] = (torch.cuda.max_memory_allocated(device) - start) / 2**20
        return
    make_rss_track_allocations()
    start, peak, stop = rss_bytes(), [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.0005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        out["peak_mb"] = (max(peak[0], rss_bytes()) - start) / 2**20
