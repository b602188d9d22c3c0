"""Worker processes that hold one item at a time, so that a worker that dies (SIGKILL, the
kernel's OOM killer) is known by the item it held and ends the run instead of hanging it.

``multiprocessing.Pool`` replaces a killed worker but loses its task and then waits for that
task's result forever.
"""

from __future__ import annotations

import signal
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


def _serve(fn: Callable, conn: Connection) -> None:
    """Worker loop: an item in, ``(True, fn(item))`` or ``(False, exception)`` out; None stops."""
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
        conn.send(reply)


class _Worker:
    def __init__(self, ctx, fn: Callable):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(fn, child), daemon=True)
        self.process.start()
        child.close()  # the parent keeps no copy of the worker's end: its death reads as EOF here
        self.item: Any = None

    def give(self, item: Any) -> None:
        self.item = item
        try:
            self.conn.send(item)
        except OSError:  # it died after its last reply
            self.process.join()
            raise WorkerDied(None, self.process.exitcode) from None

    def reply(self) -> tuple[bool, Any]:
        """The worker's reply to its item; WorkerDied naming the item if it ended without one."""
        try:
            if self.conn.poll():
                return self.conn.recv()
        except EOFError:
            pass
        self.process.join()
        raise WorkerDied(self.item, self.process.exitcode)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join()
        self.conn.close()


def imap_unordered(fn: Callable, items: Iterable, workers: int) -> Iterator:
    """``fn(item)`` for every item (never None) in up to ``workers`` forked processes; results
    in the order they finish.

    An exception raised by ``fn`` is raised here; a worker that dies raises WorkerDied naming
    the item it held. Either way the other workers are ended first (what they finished is kept,
    what they were writing atomically is left as temporary files at most).
    """
    ctx, todo, running = get_context("fork"), iter(items), []
    try:
        for _ in range(max(1, workers)):
            item = next(todo, _END)
            if item is _END:
                break
            running.append(_Worker(ctx, fn))
            running[-1].give(item)
        while running:
            ready = set(wait([w.conn for w in running] + [w.process.sentinel for w in running]))
            for w in [w for w in running if w.conn in ready or w.process.sentinel in ready]:
                ok, result = w.reply()
                if not ok:
                    raise result
                item = next(todo, _END)
                if item is _END:
                    running.remove(w)
                    w.stop()
                else:
                    w.give(item)
                yield result
    finally:
        for w in running:
            w.process.terminate()
        for w in running:
            w.process.join()
            w.conn.close()
