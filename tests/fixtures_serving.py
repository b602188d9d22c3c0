"""A real ``mlflow models serve`` process on 127.0.0.1 for tests, the champion copied out of the
store as the Docker entrypoint does, clips as uploads, and the server's process tree seen from /proc."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
from helpers import BIN

from t2l.bench.serving import wait_until_up

CLASSES = ["heart moving left", "heart moving right", "heart rotating clockwise", "heart rotating counterclockwise"]
STARTUP_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bin_env(**extra: str) -> dict[str, str]:
    """This environment with its executables first on PATH (the server's workers inherit it)."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def copy_model(uri: str, store: str, dst: Path) -> Path:
    """The model at ``uri`` downloaded out of ``store`` into ``dst`` with the real MLflow CLI."""
    dst.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "mlflow"), "artifacts", "download", "--artifact-uri", uri, "--dst-path", str(dst)],
                   env=bin_env(MLFLOW_TRACKING_URI=store), check=True, capture_output=True, timeout=300)
    return dst


def upload(path: Path) -> str:
    """A clip as the `video` column carries it in JSON."""
    return base64.b64encode(Path(path).read_bytes()).decode()


@contextmanager
def served(model: Path, log: Path, **env: str) -> Iterator[tuple[httpx.Client, subprocess.Popen]]:
    """``mlflow models serve -m model`` on a free loopback port with ``env`` added; a client for it."""
    port = free_port()
    with open(log, "w+") as out:
        proc = subprocess.Popen([str(BIN / "mlflow"), "models", "serve", "-m", str(model), "--env-manager", "local",
                                 "-h", "127.0.0.1", "-p", str(port)],
                                env=bin_env(**env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=60)
        try:
            if not wait_until_up(http, proc, STARTUP_S):
                out.seek(0)
                raise AssertionError(f"server did not start:\n{out.read()[-3000:]}")
            yield http, proc
        finally:
            http.close()
            stop(proc)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(proc: subprocess.Popen, grace_s: float = 20) -> None:
    """End the server's whole process group: SIGTERM, then SIGKILL for what is left after ``grace_s``
    (a server whose threads are stuck in reads that never return does not stop on SIGTERM)."""
    os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=grace_s)


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def decode_workers(server: subprocess.Popen) -> list[int]:
    return [p for p in descendants(server.pid) if "t2l.serve.decode_worker" in cmdline(p)]


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of ``pid`` in clock ticks; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def rss_mb(server: subprocess.Popen) -> float:
    """Resident memory of the server and every process under it."""
    total = 0
    for pid in [server.pid, *descendants(server.pid)]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024
