"""Attacks on model serving, each of which once worked: reading and fetching what the client names,
stalling workers on FIFOs and tarpits, unbounded requests and frames, decoder errors leaking stack
traces, servers on every interface, and `t2l predict` creating or writing into a store.

Everything is real and bounded: `mlflow models serve` processes on 127.0.0.1, a FIFO, a tarpit
TCP server on 127.0.0.1 that accepts and never answers, mp4 files made with ffmpeg (an audio-only
one, truncated ones, 4000x4000 frames, a clip that decodes slowly), and every request with a
timeout. The tests speak only REST, the command line and /proc, and send each attack in the former
request format (the server-side path in `video`) before the current one (the clip's bytes): run
against the code before this suite, they fail on the attack itself, not on the format.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import httpx
import pytest
from fixtures_prefect import MODEL
from fixtures_serving import CLASSES, copy_model, cpu_ticks, decode_workers, rss_mb, served, upload
from helpers import REPO, run_t2l

QUICK_S = 10  # an attack must be answered within this; a stalled server fails instead
LEAKS = ("stack_trace", "Traceback", "site-packages", "/github/", 'File "')
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42"


def ffmpeg(*args: str, out: Path) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="module")
def clips(retrained, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    ok = shutil.copy(retrained.project / "data/raw/synthetic/synthetic_target/heart_moving_left/test1_0000.mp4",
                     d / "ok.mp4")
    faststart = ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=8", "-t", "4", "-pix_fmt", "yuv420p",
                       "-movflags", "+faststart", out=d / "faststart.mp4")
    (d / "cut_header.mp4").write_bytes(Path(ok).read_bytes()[:600])
    (d / "cut_frames.mp4").write_bytes(faststart.read_bytes()[:faststart.stat().st_size // 2])
    (d / "garbage.mp4").write_bytes(MP4_HEAD + os.urandom(5000))
    return {
        "ok": Path(ok),
        "audio": ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", out=d / "audio.m4a"),
        "cut_header": d / "cut_header.mp4",
        "cut_frames": d / "cut_frames.mp4",
        "garbage": d / "garbage.mp4",
        "huge": ffmpeg("-f", "lavfi", "-i", "color=c=red:size=4000x4000:rate=8", "-frames:v", "2", "-c:v", "libx264",
                       "-preset", "ultrafast", "-pix_fmt", "yuv420p", out=d / "huge.mp4"),
        "sliver": ffmpeg("-f", "lavfi", "-i", "testsrc=size=2048x32:rate=8", "-frames:v", "8", "-pix_fmt", "yuv420p",
                         out=d / "sliver.mp4"),
        # one group of pictures: the last sampled frame needs every frame before it decoded (seconds)
        "slow": ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=1280x720:rate=30,noise=alls=20:allf=t",
                       "-frames:v", "2400", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "51", "-g", "100000",
                       "-pix_fmt", "yuv420p", out=d / "slow.mp4"),
    }


@pytest.fixture(scope="module")
def outside(clips, tmp_path_factory) -> Path:
    """A video elsewhere on the host, which no request may make the server read."""
    return Path(shutil.copy(clips["ok"], tmp_path_factory.mktemp("private") / "secret.mp4"))


@pytest.fixture(scope="module")
def media(clips, outside, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("media")
    shutil.copy(clips["ok"], root / "clip.mp4")
    (root / "sub").mkdir()
    (root / "sub" / "alias.mp4").symlink_to("../clip.mp4")  # inside the root: fine
    (root / "escape.mp4").symlink_to(outside)
    os.mkfifo(root / "fifo.mp4")
    return root


@pytest.fixture()
def tarpit():
    """A TCP server on 127.0.0.1 that accepts, records what it is sent, and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    seen: list[bytes] = []
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            conn.settimeout(1)
            try:
                seen.append(conn.recv(4096))
            except OSError:
                seen.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], seen
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture(scope="module")
def champion(retrained, tmp_path_factory) -> Path:
    return copy_model(f"models:/{MODEL}@champion", retrained.uri, tmp_path_factory.mktemp("champion"))


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serve") / "serve.log"


NEW_CLASSES = 300  # the server's limit of classes per request whose text is not encoded yet


@pytest.fixture(scope="module")
def server(champion, server_log):
    """Uploads only (no media root), with small size limits; other limits at their defaults."""
    with served(champion, server_log, T2L_SERVE_MAX_CLIP_MB="1", T2L_SERVE_MAX_REQUEST_MB="2",
                T2L_SERVE_MAX_NEW_CLASSES=str(NEW_CLASSES)) as running:
        yield running


@pytest.fixture(scope="module")
def media_server(champion, media, tmp_path_factory):
    """Paths under ``media`` allowed; decoding limited to half a second."""
    with served(champion, tmp_path_factory.mktemp("serve-media") / "serve.log",
                T2L_SERVE_MEDIA_ROOT=str(media), T2L_SERVE_DECODE_TIMEOUT_S="0.5") as running:
        yield running


def ask(http: httpx.Client, *rows: dict, timeout: float = QUICK_S, **params) -> httpx.Response:
    body = {"dataframe_records": [{"classes": CLASSES, **row} for row in rows]}
    return http.post("/invocations", json={**body, "params": params} if params else body, timeout=timeout)


def refused(reply: httpx.Response, *reason: str) -> str:
    """The message of a 4xx answer that gives ``reason`` and leaks no internals."""
    assert 400 <= reply.status_code < 500, f"{reply.status_code}: {reply.text[:500]}"
    assert not any(leak in reply.text for leak in LEAKS), reply.text[:3000]
    message = reply.json()["message"]
    for part in reason:
        assert part in message, message
    return message


def former(clip: Path | str) -> dict:
    """A row of the former request format: the server was told a path or URL to read."""
    return {"video": str(clip)}


def answers(http: httpx.Client, clip: Path) -> None:
    """The server still classifies a valid upload, promptly."""
    reply = ask(http, {"video": upload(clip)}, timeout=30)
    assert reply.status_code == 200, reply.text[:500]
    assert set(reply.json()["predictions"][0]["classes"]) <= set(CLASSES)


# 1. the request names a path or URL and the server reads or fetches it


def test_a_request_naming_a_file_on_the_server_is_not_read(server, media_server, outside):
    http, _ = server
    refused(ask(http, former(outside)))
    refused(ask(http, {"path": str(outside)}), "this server reads no files")
    media_http, _ = media_server
    refused(ask(media_http, former(outside)))
    refused(ask(media_http, {"path": str(outside)}), "outside the media root")


def test_no_url_of_any_scheme_is_read_or_fetched(server, media_server, outside, tarpit):
    port, seen = tarpit
    urls = [outside.as_uri(), f"http://127.0.0.1:{port}/x.mp4", f"https://127.0.0.1:{port}/x.mp4",
            f"tcp://127.0.0.1:{port}", f"concat:{outside}|{outside}", f"subfile,,start,0,end,0,,:{outside}"]
    for http, _ in (server, media_server):
        for url in urls:
            refused(ask(http, former(url)))
            refused(ask(http, {"path": url}))
    time.sleep(0.5)
    assert seen == [], f"the server connected to the client's URL: {seen}"


def test_an_uploaded_playlist_cannot_make_the_decoder_open_files_or_urls(server, outside, tarpit, tmp_path):
    port, seen = tarpit
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:{port}/a.ts\n"
                        f"#EXTINF:1,\n{outside.as_uri()}\n#EXT-X-ENDLIST\n")
    http, _ = server
    refused(ask(http, former(playlist)))
    refused(ask(http, {"video": upload(playlist)}), "not a video file of a supported container")
    time.sleep(0.5)
    assert seen == []


def test_the_media_root_serves_its_regular_files_and_nothing_outside_it(media_server, media):
    http, _ = media_server
    for inside in ("clip.mp4", str(media / "clip.mp4"), "sub/alias.mp4", "sub/../clip.mp4"):
        reply = ask(http, {"path": inside})
        assert reply.status_code == 200, reply.text[:500]
    for escape in ("escape.mp4", "../private0/secret.mp4", "sub/../../x.mp4", "/etc/hostname", "//etc/hostname"):
        refused(ask(http, {"path": escape}), "outside the media root")
    refused(ask(http, {"path": "sub"}), "not a regular file")
    refused(ask(http, {"path": "missing.mp4"}), "cannot open the file")


# 2. requests that stall a worker for good: FIFOs, tarpits, decodes that never end


def test_fifos_and_tarpits_do_not_stall_the_server(server, media_server, media, clips, tarpit):
    port, _ = tarpit
    fifo, url = str(media / "fifo.mp4"), f"http://127.0.0.1:{port}/x.mp4"
    attacks = [(server, former(fifo)), (server, former(url)), (media_server, former(fifo)),
               (media_server, {"path": "fifo.mp4"}), (media_server, {"path": url})] * 2
    with ThreadPoolExecutor(len(attacks)) as pool:
        replies = list(pool.map(lambda a: ask(a[0][0], a[1]), attacks))
    for reply in replies:
        refused(reply)
    assert "not a regular file" in replies[3].json()["message"]
    answers(server[0], clips["ok"])
    answers(media_server[0], clips["ok"])


def test_a_decode_over_the_time_limit_is_killed_and_its_worker_replaced(media_server, clips):
    http, proc = media_server
    refused(ask(http, former(clips["slow"])))
    before = decode_workers(proc)
    start = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda _: ask(http, {"video": upload(clips["slow"]), "name": "slow.mp4"}), range(3)))
    for reply in replies:
        refused(reply, "slow.mp4: decoding took longer than 0.5 s")
    assert time.monotonic() - start < QUICK_S
    answers(http, clips["ok"])
    after = decode_workers(proc)
    assert len(after) == len(before) == 2 and not set(after) & set(before)


def test_a_crashing_decoder_costs_only_its_clip(server, clips):
    http, proc = server
    workers = decode_workers(proc)
    assert len(workers) == 2, "no decode worker processes"
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(ask, http, {"video": upload(clips["slow"]), "name": "slow.mp4"}, timeout=30)
        ticks, deadline = {w: cpu_ticks(w) for w in workers}, time.monotonic() + QUICK_S
        busy = None
        while busy is None and time.monotonic() < deadline:
            time.sleep(0.05)
            busy = next((w for w in workers if cpu_ticks(w) - ticks[w] >= 10), None)
        assert busy is not None, "no worker started decoding"
        os.kill(busy, signal.SIGSEGV)
        refused(pending.result(), "slow.mp4: the decoder crashed on this clip")
    answers(http, clips["ok"])
    assert len(decode_workers(proc)) == 2


# 3. no limits: huge frames, many rows or classes, long class names, big uploads


def test_huge_frames_are_refused_from_the_header_without_taking_their_memory(server, clips):
    http, proc = server
    baseline, peak, done = rss_mb(proc), [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(proc))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        replies = [ask(http, former(clips["huge"]), timeout=60),
                   ask(http, {"video": upload(clips["huge"]), "name": "huge.mp4"}),
                   ask(http, {"video": upload(clips["sliver"]), "name": "sliver.mp4"})]
    finally:
        done.set()
        sampler.join()
    assert peak[0] - baseline < 400, f"serving took {peak[0] - baseline:.0f} MB more memory"
    refused(replies[0])
    refused(replies[1], "huge.mp4: frames of 4000x4000, over the limit of")
    refused(replies[2], "sliver.mp4: frames of 2048x32, more elongated than 4:1")


def test_oversized_requests_are_refused_before_any_work(server, clips):
    http, _ = server
    many, long_name = [f"class {i}" for i in range(5000)], "x" * 1_000_000
    for row, rows_reason, classes_reason, name_reason in (
            (former(clips["ok"]), "", "", ""),
            ({"video": upload(clips["ok"])}, "request: 9 clips, over the limit of 8",
             "5000 classes, over the limit of 1000", "a class name of 1000000 characters, over the limit of 300")):
        refused(ask(http, *[row] * 9), rows_reason)
        start = time.monotonic()
        refused(ask(http, {**row, "classes": many}), classes_reason)
        assert time.monotonic() - start < 5
        reply = ask(http, {**row, "classes": [long_name]})
        refused(reply, name_reason)
        assert len(reply.content) < 10_000 and long_name[:1000] not in reply.text
    clip = upload(clips["ok"])
    big = base64.b64encode(MP4_HEAD + os.urandom(1_200_000)).decode()
    refused(ask(http, {"video": big}), "over the limit of 1 MB")
    part = base64.b64encode(MP4_HEAD + os.urandom(800_000)).decode()
    refused(ask(http, *[{"video": part}] * 3), "request: 2.3 MB of video, over the limit of 2 MB")
    refused(ask(http, {"video": clip}, top_k=0), "params.top_k")


# 4. decoder errors: a traceback in `t2l predict`, a stack trace with internal paths in the answer


@pytest.mark.parametrize("broken, reason", [("audio", "no video stream"), ("cut_header", "not a readable video"),
                                            ("cut_frames", "cannot decode the video"),
                                            ("garbage", "not a readable video")])
def test_undecodable_clips_get_a_400_naming_them_without_a_stack_trace(server, clips, broken, reason):
    http, _ = server
    refused(ask(http, former(clips[broken])))
    refused(ask(http, {"video": upload(clips[broken]), "name": f"{broken}.mp4"}), f"{broken}.mp4: {reason}")


def test_t2l_predict_reports_an_undecodable_file_in_one_line(champion, clips, retrained):
    for broken, reason in (("audio", "no video stream"), ("cut_frames", "cannot decode the video")):
        proc = run_t2l("predict", str(clips[broken]), "--classes", "a,b", "--model", str(champion),
                       cwd=retrained.project, check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert f"error: {clips[broken]}: {reason}" in proc.stderr


# 5. servers on every interface without authentication


def entrypoint(args: list[str], tmp_path: Path, **env: str) -> list[list[str]]:
    """The image's entrypoint run with a recording `mlflow` (Docker cannot run here): its mlflow calls."""
    stub = tmp_path / "bin"
    stub.mkdir(exist_ok=True)
    calls = tmp_path / "calls.jsonl"
    (stub / "mlflow").write_text("#!/usr/bin/env python3\nimport json, sys\n"
                                 f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    (stub / "mlflow").chmod(0o755)
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    path = f"{stub}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    subprocess.run(["sh", str(REPO / "docker/entrypoint.sh"), *args], cwd=tmp_path, check=True, timeout=60,
                   env={**{k: v for k, v in os.environ.items() if k != "T2L_BIND_HOST"}, "PATH": path,
                        "TMPDIR": str(tmp_path), **env})
    lines = calls.read_text().splitlines()
    calls.unlink()
    return [json.loads(line) for line in lines]


def option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


def test_the_entrypoint_serves_on_the_loopback_unless_the_operator_opts_in(tmp_path):
    (ui,) = entrypoint(["ui"], tmp_path)
    *_, serve = entrypoint(["model"], tmp_path)
    assert ui[0] == "ui" and serve[:2] == ["models", "serve"]
    assert option(ui, "--host") == option(serve, "--host") == "127.0.0.1"
    (ui,) = entrypoint(["ui"], tmp_path, T2L_BIND_HOST="0.0.0.0")
    *_, serve = entrypoint(["model"], tmp_path, T2L_BIND_HOST="0.0.0.0")
    assert option(ui, "--host") == option(serve, "--host") == "0.0.0.0"


def test_the_docs_publish_container_ports_on_the_loopback_only():
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    published = [line for page in pages for line in page.read_text().splitlines() if " -p " in line and "$run" in line]
    assert published, "no docker run line publishes a port"
    for line in published:
        ports = [arg for before, arg in zip(line.split(), line.split()[1:]) if before == "-p"]
        assert ports and all(p.startswith("127.0.0.1:") for p in ports), line
        assert "T2L_BIND_HOST=0.0.0.0" in line, line


# 6. `t2l predict` creating a store where it runs, and writing into the store it reads


def tree(d: Path) -> dict[str, tuple[int, int, str]]:
    return {str(p.relative_to(d)): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(d.rglob("*")) if p.is_file()}


def test_t2l_predict_outside_a_project_creates_no_store(retrained, clips, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"MLFLOW_TRACKING_URI": ""}
    got = run_t2l("predict", str(clips["ok"]), "--classes", ",".join(CLASSES),
                  "--params", str(retrained.project / "params.yaml"), cwd=elsewhere, env=env, check=False)
    assert got.returncode == 0, got.stderr[-3000:]  # the champion of the project that --params names
    assert json.loads(got.stdout)[0]["video"] == str(clips["ok"])
    assert list(elsewhere.iterdir()) == []
    shutil.copy(retrained.project / "params.yaml", elsewhere / "params.yaml")  # a params file outside any project
    got = run_t2l("predict", str(clips["ok"]), "--classes", "a,b", cwd=elsewhere, env=env, check=False)
    assert got.returncode == 1 and "Traceback" not in got.stderr, got.stderr[-3000:]
    assert "MLFLOW_TRACKING_URI is unset" in got.stderr and str(elsewhere) in got.stderr
    missing = tmp_path / "nowhere" / "mlflow.db"
    got = run_t2l("predict", str(clips["ok"]), "--classes", "a,b", cwd=elsewhere, check=False,
                  env={"MLFLOW_TRACKING_URI": f"sqlite:///{missing}"})
    assert got.returncode == 1 and f"{missing}: no MLflow store there" in got.stderr, got.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["elsewhere", "params.yaml"]


def test_loading_the_champion_writes_nothing_into_the_store(retrained, clips):
    store = retrained.project / "mlflow"
    before = tree(store)
    got = run_t2l("predict", str(clips["ok"]), "--classes", ",".join(CLASSES), "--model", f"models:/{MODEL}@champion",
                  cwd=retrained.project, env={"MLFLOW_TRACKING_URI": retrained.uri})
    assert len(json.loads(got.stdout)) == 1
    assert tree(store) == before


# 7. an upload that the decoder's own format probing reads as an SDP description (UDP ports opened)


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level MP4 boxes: (type, the whole box)."""
    found, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        found.append((kind, data[at:at + size]))
        at += size
    return found


def shifted_chunk_offsets(moov: bytes, delta: int) -> bytes:
    """``moov`` with every chunk offset (``stco``) moved by ``delta`` bytes."""
    out, at = bytearray(moov), moov.find(b"stco")
    while at != -1:
        for k in range(struct.unpack(">I", out[at + 8:at + 12])[0]):
            p = at + 12 + 4 * k
            out[p:p + 4] = struct.pack(">I", struct.unpack(">I", out[p:p + 4])[0] + delta)
        at = moov.find(b"stco", at + 4)
    return bytes(out)


def sdp_in_ftyp(clip: bytes, port: int) -> bytes:
    """A real clip whose ``ftyp`` box (brand ``jp2 ``, which makes the MOV probe score low) begins
    with an SDP description of an RTP stream on ``port``. Its size is chosen without NUL bytes, so
    ffmpeg's SDP probe and parser read the box as text; the clip's chunk offsets follow the box."""
    size = 0x01010101
    sdp = (f"\nv=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
           f"m=video {port} RTP/AVP 96\na=rtpmap:96 H264/90000\n").encode()
    head = struct.pack(">I", size) + b"ftypjp2 \n\n\n\n" + sdp
    parts = boxes(clip)
    delta = size - len(parts[0][1])
    rest = b"".join(shifted_chunk_offsets(box, delta) if kind == b"moov" else box for kind, box in parts[1:])
    return head + b"\n" * (size - len(head)) + rest


def bound_ports(pids: list[int]) -> set[int]:
    """Local ports of every UDP and TCP socket in the network namespaces of ``pids`` and this one."""
    ports = set()
    for where in ["self", *map(str, pids)]:
        for table in ("udp", "udp6", "tcp", "tcp6"):
            try:
                lines = Path(f"/proc/{where}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            ports |= {int(line.split()[1].rsplit(":", 1)[1], 16) for line in lines}
    return ports


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_upload_that_reads_as_sdp_opens_no_socket_and_is_decoded_as_the_mp4_it_claims(media_server, clips):
    http, proc = media_server
    port = free_udp_port()
    attack = sdp_in_ftyp(clips["ok"].read_bytes(), port)
    workers = decode_workers(proc)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(ask, http, {"video": base64.b64encode(attack).decode(), "name": "sdp.mp4"}, timeout=60)
        seen = set()
        while not pending.done():
            seen |= bound_ports(workers) & {port, port + 1}
            time.sleep(0.01)
        reply = pending.result()
    assert not seen, f"the decode worker listened on port(s) {seen} that the upload chose"
    assert reply.status_code == 200, reply.text[:500]  # the MOV container it claims to be: a valid clip
    assert reply.json()["predictions"][0]["classes"][0] in CLASSES


def test_decode_workers_have_no_network_where_the_os_permits(server):
    _, proc = server
    probe = ("import ctypes, sys; unshare = ctypes.CDLL(None).unshare; "
             "sys.exit(unshare(0x40000000) and unshare(0x10000000 | 0x40000000))")  # CLONE_NEWNET, with CLONE_NEWUSER
    allowed = subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0
    if not allowed:
        pytest.skip("this OS permits no network namespace (t2l.serve.sandbox)")
    host = os.readlink(f"/proc/{proc.pid}/ns/net")
    workers = decode_workers(proc)
    assert workers and all(os.readlink(f"/proc/{w}/ns/net") != host for w in workers)


# 8. text work: one client pushing new classes stalls every other client


def test_a_client_with_encoded_classes_is_not_stalled_by_one_pushing_new_classes(server, clips):
    http, _ = server
    clip = upload(clips["ok"])
    assert ask(http, {"video": clip}).status_code == 200  # CLASSES encoded from now on

    def new_classes(n: int, seed: int) -> list[str]:
        return [" ".join(f"w{seed}x{i}y{j}" for j in range(40))[:300] for i in range(n)]

    start = time.monotonic()
    refused(ask(http, {"video": clip, "classes": new_classes(1000, 0)}),
            f"1000 classes whose text is not encoded yet, over the limit of {NEW_CLASSES} per request")
    assert time.monotonic() - start < 3  # refused before the text work

    pushed, waited, done = [], [], threading.Event()

    def push():
        for seed in range(1, 4):
            began = time.monotonic()
            assert ask(http, {"video": clip, "classes": new_classes(NEW_CLASSES, seed)}, timeout=60).status_code == 200
            pushed.append(time.monotonic() - began)
        done.set()

    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        while not done.is_set():
            began = time.monotonic()
            assert ask(http, {"video": clip}, timeout=60).status_code == 200
            waited.append(time.monotonic() - began)
    finally:
        pusher.join()
    assert len(pushed) == 3 and len(waited) >= 5, (pushed, waited)
    assert max(waited) < min(1.0, statistics.median(pushed) / 2), (pushed, waited)  # no request waited for text work


# 9. small leaks: a deeply nested body, a pickle that runs code


def test_a_deeply_nested_json_body_is_a_400_without_a_traceback(server, server_log, clips):
    http, _ = server
    body = '{"dataframe_records": ' + "[" * 100_000 + "]" * 100_000 + "}"
    before = server_log.read_text()
    reply = http.post("/invocations", content=body, headers={"Content-Type": "application/json"}, timeout=QUICK_S)
    refused(reply, "the JSON body is nested too deeply")
    time.sleep(0.5)
    assert "Traceback" not in server_log.read_text()[len(before):]
    answers(http, clips["ok"])


class RunsCode:
    def __reduce__(self):
        return (os.system, ("true",))


def test_a_weights_file_that_runs_code_is_refused_without_advice_to_load_it_unsafely(retrained, clips, tmp_path):
    run_dir = Path(shutil.copytree(retrained.project / "models/zero_shot/zs-t2l/main", tmp_path / "run"))
    (run_dir / "weights.pt").write_bytes(pickle.dumps(RunsCode()))
    got = run_t2l("predict", str(clips["ok"]), "--classes", ",".join(CLASSES), "--model", str(run_dir),
                  cwd=retrained.project, check=False)
    assert got.returncode == 1 and "Traceback" not in got.stderr, got.stderr[-3000:]
    assert "weights.pt: holds Python objects besides tensors, which loading could run as code; refused" in got.stderr
    assert "set to `False`" not in got.stderr and "weights_only=False" not in got.stderr  # torch's advice
