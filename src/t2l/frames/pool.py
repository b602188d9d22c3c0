"""Worker processes that hold one item at a time, so that a worker that dies (SIGKILL, the
kernel's OOM killer) is known by the item it held and ends the run instead of hanging it.

``multiprocessing.Pool`` replaces a killed worker but loses its task and then waits for that
task's result forever.

Workers also end with their parent, however it ends (SIGKILL, SIGTERM, a cancelled Prefect or
DVC run): on Linux the kernel kills them (``PR_SET_PDEATHSIG``, which follows the thread that
started them: start them from a thread that outlives them); anywhere, an idle worker reads
end-of-file once no process holds the parent's end of its pipe.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator

_END = object()  # no more items


class WorkerDied(Exception):
    """A worker process ended while it held ``item`` (None: between two items)."""

    def __init__(self, item: Any, exitcode: int | None):
        self.item, self.exitcode = item, exitcode
        held = f"while it held {item!r}" if item is not None else "between two items"
        super().__init__(f"worker {how(exitcode)} {held}")


def how(exitcode: int | None) -> str:
    """How a process ended: 'was killed by SIGKILL', 'exited with code 1'."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent ends (Linux), and exit at once if
    ``parent`` (the pid it was started by) has already ended."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it ended before the line above took effect
        os._exit(1)


def _serve(fn: Callable, conn: Connection, parent: int, parent_ends: list[Connection]) -> None:
    """Worker loop: an item in, ``(True, fn(item))`` or ``(False, exception)`` out; None stops.

    ``parent_ends`` are the parent's ends of every worker's pipe, copied by the fork: closed
    here, so that the parent's death reads as end-of-file."""
    die_with_parent(parent)
    for end in parent_ends:
        end.close()
    while True:
        try:
            item = conn.recv()
        except EOFError:  # the parent is gone
            return
        if item is None:
            return
        try:
            reply = (True, fn(item))
        except Exception as e:  # noqa: BLE001  (raised again in the parent)
            reply = (False, e)
        try:
            conn.send(reply)
        except OSError:  # the parent is gone
            return


class _Worker:
    def __init__(self, ctx, fn: Callable, siblings: list["_Worker"]):
        self.conn, child = ctx.Pipe()
        parent_ends = [w.conn for w in siblings] + [self.conn]
        self.process = ctx.Process(target=_serve, args=(fn, child, os.getpid(), parent_ends), daemon=True)
        self.process.start()
        child.close()  # the parent keeps no copy of the worker's end: its death reads as EOF here
        self.item: Any = None  # what it works on; None while idle

    def give(self, item: Any) -> None:
        try:
            self.conn.send(item)
        except OSError:  # it died after its last reply
            self.process.join()
            raise WorkerDied(None, self.process.exitcode) from None
        self.item = item

    def reply(self) -> tuple[bool, Any]:
        """The worker's reply to its item; WorkerDied naming the item if it ended without one."""
        try:
            if self.conn.poll():
                reply, self.item = self.conn.recv(), None
                return reply
        except EOFError:
            pass
        self.process.join()
        raise WorkerDied(self.item, self.process.exitcode)

    def end(self) -> None:
        """Stop it: an idle worker is told to, a busy one is terminated."""
        if self.item is None and self.process.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
        else:
            self.process.terminate()
        self.process.join()
        self.conn.close()


class Workers:
    """``n`` forked worker processes running ``fn``, started at once (so before the caller starts
    threads, a progress bar's); a context manager that ends them all on leaving.

    ``imap_unordered(items)`` yields ``fn(item)`` for every item (never None) in the order they
    finish. An exception raised by ``fn`` is raised there, and a worker that dies raises
    WorkerDied naming the item it held; leaving the block then ends the other workers at once
    (what they finished is kept; what they were writing atomically is left as temporary files
    at most).
    """

    def __init__(self, fn: Callable, n: int):
        ctx = get_context("fork")
        self._workers: list[_Worker] = []
        for _ in range(max(1, n)):
            self._workers.append(_Worker(ctx, fn, self._workers))

    def imap_unordered(self, items: Iterable) -> Iterator:
        todo, running = iter(items), []
        for w in self._workers:
            item = next(todo, _END)
            if item is _END:
                break
            w.give(item)
            running.append(w)
        while running:
            ready = set(wait([w.conn for w in running] + [w.process.sentinel for w in running]))
            for w in [w for w in running if w.conn in ready or w.process.sentinel in ready]:
                ok, result = w.reply()
                if not ok:
                    raise result
                item = next(todo, _END)
                if item is _END:
                    running.remove(w)
                else:
                    w.give(item)
                yield result

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        for w in self._workers:
            w.end()
