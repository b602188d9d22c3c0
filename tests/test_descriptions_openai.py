"""The ``openai`` describe backend against a real OpenAI-compatible HTTP server on 127.0.0.1.

The server answers per class from a script: normally, 429 with Retry-After, 500, a hang past the
client's timeout, malformed JSON, an empty, refusal or non-text completion, one choice where n
were asked, 401 echoing the credentials, a gzip body that inflates to 64 MiB, or answers far
longer than max_tokens allows. It counts every request it receives.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from helpers import BIN, REPO, run_t2l

from t2l.data.splits.schema import CLASSES_FILE, classes_frame
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.stage import run
from t2l.errors import UserError
from t2l.fsio import write_csv
from t2l.params import ParamsError, parse

KEY_ENV = "T2L_TEST_LLM_KEY"
KEY = "sk-test-7f3a9c0d-DO-NOT-LEAK"
CLASSES = ["pizza tossing", "typing", "juggling balls", "star moving left", "high jump", "knitting"]


@functools.cache
def bomb() -> bytes:
    """A chat completion of 64 MiB, gzipped to 64 KiB."""
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x" * (64 << 20)}}]}
    return gzip.compress(json.dumps(answer).encode())


class FakeLLM:
    """Scripted chat-completions server: ``plan(cls, actions..., then=...)``; records each request."""

    hang_s = 1.5
    retry_after = "1"
    echo = staticmethod(str)  # how a 401 writes the credentials it got back

    def __init__(self):
        self.scripts: dict[str, list[str]] = {}
        self.then: dict[str, str] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.delay_s = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                server.handle(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads, self.httpd.block_on_close = True, False
        self.httpd.handle_error = lambda *args: None  # a client that timed out closed the socket
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def plan(self, cls: str, *actions: str, then: str = "ok") -> None:
        self.scripts[cls], self.then[cls] = list(actions), then

    def classes_asked(self) -> list[str]:
        return [r["class"] for r in self.requests]

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
        cls = re.match(r"describe (.+) as an action", body["messages"][-1]["content"]).group(1)
        with self.lock:
            script = self.scripts.get(cls, [])
            action = script.pop(0) if script else self.then.get(cls, "ok")
            self.requests.append({"class": cls, "n": body["n"], "action": action, "t": time.monotonic(),
                                  "auth": h.headers.get("Authorization"), "body": body})
            serial = len(self.requests)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.hang_s if action == "hang" else self.delay_s)
            self.respond(h, action, cls, body["n"], serial)
        except OSError:
            pass
        finally:
            with self.lock:
                self.in_flight -= 1

    def respond(self, h, action: str, cls: str, n: int, serial: int) -> None:
        contents = {"empty": ["  \n "], "refusal": ["I'm sorry, but as an AI I cannot describe that."],
                    "null": [None], "one": [f'"Description:  {cls} is answer {serial}.0"']}
        status, headers, payload = 200, {}, None
        if action in ("ok", "hang"):
            payload = [f'  "Description:  {cls}\n is   answer {serial}.{i}"  ' for i in range(n)]
        elif action == "long":  # a server that ignores max_tokens
            payload = [f"{cls} is done {' '.join(['very'] * 20000)} carefully."] * n
        elif action == "echo":  # a debugging proxy that answers with the request's headers
            payload = [f"{cls} is done by hand. Request headers: {dict(h.headers)}"] * n
        elif action in contents:
            payload = contents[action]
        elif action == "429":
            status, headers = 429, {"Retry-After": self.retry_after}
        elif action in ("500", "401"):
            status = int(action)
        text = (json.dumps({"choices": [{"index": i, "message": {"role": "assistant", "content": c}}
                                        for i, c in enumerate(payload)]}) if payload is not None
                else "{not json" if action == "badjson"
                else f"Incorrect API key provided: {self.echo(h.headers.get('Authorization'))}" if action == "401"
                else f"error {status}")
        data = text.encode()
        if action == "bomb":  # 64 KiB on the wire, 64 MiB once inflated
            data, headers = bomb(), {"Content-Encoding": "gzip"}
        h.send_response(status)
        for k, v in {**headers, "Content-Type": "application/json", "Content-Length": str(len(data))}.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)


@pytest.fixture()
def llm(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv(KEY_ENV, KEY)
    server = FakeLLM()
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def classes_dir(tmp_path: Path, names=CLASSES) -> Path:
    splits = tmp_path / "splits"
    write_csv(splits / "tiny" / CLASSES_FILE, classes_frame(list(names)))
    return splits


def openai_section(server: FakeLLM, tmp_path: Path, n: int = 2, **openai) -> dict:
    return {"backend": "openai", "n": n, "cache_dir": str(tmp_path / "cache"),
            "openai": {"base_url": server.url, "model": "fake-1", "api_key_env": KEY_ENV, "timeout_s": 0.5,
                       "max_retries": 3, "backoff_s": 0.01, "backoff_max_s": 2, "concurrency": 4, **openai}}


def describe(server, tmp_path, n=2, **openai) -> dict:
    cfg = parse(DescribeConfig, openai_section(server, tmp_path, n, **openai), "describe")
    return run(cfg, "tiny", classes_dir(tmp_path), tmp_path / "out")


def output(tmp_path) -> dict:
    return json.loads((tmp_path / "out" / "tiny.json").read_text())


def test_transient_failures_are_retried_until_every_class_is_described(llm, tmp_path):
    llm.retry_after = "0"
    for cls, actions in {"pizza tossing": ["429"], "typing": ["500", "refusal"], "juggling balls": ["hang"],
                         "high jump": ["badjson"], "knitting": ["empty"],
                         "star moving left": ["null", "one"]}.items():  # non-text, then 1 choice of 2 asked
        llm.plan(cls, *actions)
    summary = describe(llm, tmp_path)
    assert summary["classes"] == 6 and summary["descriptions"] == 12
    got = output(tmp_path)
    assert list(got) == CLASSES
    for cls, texts in got.items():
        assert len(texts) == 2 and all(re.fullmatch(rf"{cls} is answer \d+\.\d", t) for t in texts), texts
    star = [r["n"] for r in llm.requests if r["class"] == "star moving left"]
    assert star == [2, 2, 1]  # the rest of a short answer is asked again
    assert summary["retries"] == 7 and summary["requests"] == len(llm.requests) == 14
    report = json.loads((tmp_path / "out" / "tiny.report.json").read_text())
    assert report["tokens"]["descriptions"] == 12 and report["tokens"]["truncated"] == 0

    before = len(llm.requests)
    assert describe(llm, tmp_path)["cached"] == 12
    assert len(llm.requests) == before  # a second run makes zero HTTP calls
    assert output(tmp_path) == got


def test_retry_after_is_honoured(llm, tmp_path):
    llm.plan("typing", "429")
    describe(llm, tmp_path, n=1, backoff_s=0.001)
    times = [r["t"] for r in llm.requests if r["class"] == "typing"]
    assert len(times) == 2 and 0.9 <= times[1] - times[0] < 1.8


def test_concurrency_is_bounded(llm, tmp_path):
    llm.delay_s = 0.4  # long enough that two requests overlap on a loaded machine
    describe(llm, tmp_path, n=1, concurrency=2, timeout_s=3)
    assert llm.max_in_flight == 2 and len(llm.requests) == len(CLASSES)


def test_classes_never_answered_are_listed_nothing_is_written_and_a_rerun_resumes(llm, tmp_path):
    llm.plan("typing", then="500")
    llm.plan("knitting", then="refusal")
    with pytest.raises(UserError) as err:
        describe(llm, tmp_path, max_retries=2)
    message = str(err.value)
    assert "could not describe 2 of 6 classes" in message
    assert re.search(r"typing: HTTP 500 \(gave up after 3 attempts\)", message)
    assert re.search(r"knitting: refusal-like answer", message)
    assert "pizza tossing" not in message
    assert not (tmp_path / "out").exists()  # nothing partial on disk
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2 * 4  # the good answers are kept

    llm.requests.clear()
    llm.then.clear()
    describe(llm, tmp_path, max_retries=2)
    assert sorted(llm.classes_asked()) == ["knitting", "typing"]
    assert list(output(tmp_path)) == CLASSES


def test_a_killed_run_resumes_with_only_the_missing_requests(llm, tmp_path):
    llm.hang_s = 60
    llm.plan("knitting", "hang")
    section = openai_section(llm, tmp_path, n=2, timeout_s=30)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"describe": section}))
    args = ["describe", "--dataset", "tiny", "--splits-dir", str(classes_dir(tmp_path)), "--out", str(tmp_path / "out")]
    proc = subprocess.Popen([str(BIN / "t2l"), *args], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while len(list((tmp_path / "cache").rglob("*.json"))) < 2 * 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2 * 5
    assert not (tmp_path / "out").exists()

    llm.requests.clear()
    done = run_t2l(*args, cwd=tmp_path)
    assert llm.classes_asked() == ["knitting"]
    assert json.loads(done.stdout)["requests"] == 1
    assert list(output(tmp_path)) == CLASSES
    assert KEY not in done.stdout + done.stderr


def test_the_api_key_is_sent_but_never_leaks(llm, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    llm.retry_after = "0"
    llm.plan("typing", "500", "429")
    describe(llm, tmp_path)
    assert {r["auth"] for r in llm.requests} == {f"Bearer {KEY}"}

    llm.plan("knitting", then="401")  # the server echoes the credentials it got
    (tmp_path / "out").rename(tmp_path / "first")
    with pytest.raises(UserError) as err:
        describe(llm, tmp_path, n=3)
    assert "knitting: HTTP 401: Incorrect API key provided: Bearer ***" in str(err.value)
    assert KEY not in str(err.value)
    captured = capsys.readouterr()
    assert "retry 1 of 3" in caplog.text  # retries are logged ...
    assert KEY not in caplog.text + captured.out + captured.err  # ... without the key

    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"describe": openai_section(llm, tmp_path, n=3)}))
    cli = run_t2l("describe", "--dataset", "tiny", "--splits-dir", str(tmp_path / "splits"), "--out",
                  str(tmp_path / "out"), cwd=tmp_path, check=False)
    assert cli.returncode == 1 and "error: could not describe 1 of 6 classes" in cli.stderr
    assert "Traceback" not in cli.stderr and KEY not in cli.stdout + cli.stderr
    for f in [*tmp_path.rglob("*"), REPO / "params.yaml"]:
        if f.is_file():
            assert KEY not in f.read_text(), f

    # ... nor in MLflow: `t2l track` logs params.yaml and the descriptions, with the key in its environment
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"describe": openai_section(llm, tmp_path, n=3),
                                                          "datasets": {"tiny": {"adapter": "synthetic", "root": ".",
                                                                                "watch": "."}},
                                                          "track": {"experiment": "leak-check"}}))
    uri = f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    run_t2l("track", "--descriptions-dir", "first", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": uri})
    assert_not_in_mlflow(uri, KEY, tmp_path / "downloaded")


def assert_not_in_mlflow(uri: str, secret: str, scratch: Path) -> None:
    """Nowhere in the store: params, tags, artifacts (descriptions included) or the database file."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert client.get_run(run.info.run_id).data.params["describe.openai.api_key_env"] == KEY_ENV
    assert all(secret not in k + v for k, v in {**run.data.params, **run.data.tags}.items())
    local = Path(client.download_artifacts(run.info.run_id, "", str(scratch)))
    files = [f for f in local.rglob("*") if f.is_file()]
    assert {"params.yaml", "descriptions/tiny.json"} <= {f.relative_to(local).as_posix() for f in files}
    assert not [f for f in files if secret.encode() in f.read_bytes()]
    assert secret.encode() not in Path(uri.removeprefix("sqlite:///")).read_bytes()


def test_an_answer_echoing_the_key_is_refused_and_not_cached(llm, tmp_path):
    llm.plan("knitting", then="echo")
    with pytest.raises(UserError) as err:
        describe(llm, tmp_path)
    assert "knitting: the server's answer contains the API key" in str(err.value) and KEY not in str(err.value)
    cached = [f for f in (tmp_path / "cache").rglob("*") if f.is_file()]
    assert cached and not [f for f in cached if KEY in f.read_text()]  # the other classes' answers are kept
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key", [KEY + "\r", KEY + "\n", " " + KEY, KEY[:8] + "\t" + KEY[8:]])
def test_a_key_with_whitespace_is_refused_without_showing_it(llm, tmp_path, monkeypatch, key):
    monkeypatch.setenv(KEY_ENV, key)
    with pytest.raises(UserError) as err:
        describe(llm, tmp_path)
    assert f"${KEY_ENV}: the API key holds a space or a control character" in str(err.value)
    assert KEY[:8] not in str(err.value) and not llm.requests


def test_the_scrubber_also_hides_the_key_as_a_repr_shows_it():
    from t2l.descriptions.chat import ChatDescriber

    describer = ChatDescriber.__new__(ChatDescriber)
    describer.key = 'sk-"quoted"-\\-key'
    message = f"Invalid header value {describer.key!r} and {describer.key}"
    assert describer.scrub(message) == "Invalid header value '***' and ***"


ESCAPES = {
    "json-every-character": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    "json-some-characters-upper-hex": lambda s: "".join(f"\\u{ord(c):04X}" if i % 3 else c for i, c in enumerate(s)),
    "json-escaped-slash": lambda s: s.replace("/", "\\/"),
    "percent-encoded": lambda s: "".join(f"%{b:02X}" for b in s.encode()),
    "python-hex": lambda s: "".join(f"\\x{b:02x}" for b in s.encode()),
}


@pytest.mark.parametrize("escape", ESCAPES.values(), ids=ESCAPES)
def test_the_key_is_scrubbed_in_every_escaped_form_a_server_echoes(llm, tmp_path, monkeypatch, caplog, escape):
    caplog.set_level(logging.DEBUG)
    key = "sk-proj/7f3a9c0d+DO/NOT-LEAK"
    monkeypatch.setenv(KEY_ENV, key)
    llm.echo = staticmethod(escape)
    llm.plan("knitting", then="401")
    with pytest.raises(UserError) as err:
        describe(llm, tmp_path, n=1)
    message = str(err.value)
    assert "knitting: HTTP 401: Incorrect API key provided: " in message and "***" in message
    for shown in (message, caplog.text):
        for part in (key, key[8:20]):
            assert part not in shown and escape(part) not in shown


def test_without_a_key_no_authorization_header_is_sent(llm, tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    describe(llm, tmp_path, n=1)
    assert {r["auth"] for r in llm.requests} == {None}


def test_requests_follow_the_chat_completions_shape(llm, tmp_path):
    describe(llm, tmp_path, n=3, system_prompt="You describe actions.", temperature=0.3, max_tokens=50)
    body = llm.requests[0]["body"]
    assert body["model"] == "fake-1" and body["n"] == 3 and body["temperature"] == 0.3 and body["max_tokens"] == 50
    assert body["messages"][0] == {"role": "system", "content": "You describe actions."}
    assert body["messages"][1]["content"].endswith("as an action performed by humans")


@pytest.mark.timeout(60)  # accepted whole, the 64 MiB answer took minutes to tokenize
def test_a_compression_bomb_is_refused_while_inflating_and_nothing_of_it_is_kept(llm, tmp_path):
    import tracemalloc

    llm.plan("knitting", then="bomb")
    bomb()  # made before measuring
    tracemalloc.start()
    try:
        with pytest.raises(UserError) as err:
            describe(llm, tmp_path, timeout_s=5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(err.value)
    assert "knitting: the answer is larger than describe.openai.max_answer_bytes (1,048,576 bytes" in message
    assert "could not describe 1 of 6 classes" in message
    assert peak < 16 << 20, f"{peak / 2**20:.0f} MiB allocated: the body was inflated beyond the cap"
    assert [r["class"] for r in llm.requests].count("knitting") == 1  # a bomb is not asked for again
    assert max(f.stat().st_size for f in (tmp_path / "cache").rglob("*.json")) < 4096
    assert not (tmp_path / "out").exists()


def test_descriptions_past_the_cap_are_cut_at_a_word_and_cached_cut(llm, tmp_path):
    llm.plan("typing", then="long")  # 100 kB each, whatever max_tokens said
    describe(llm, tmp_path, max_description_chars=300)
    typing = output(tmp_path)["typing"]
    assert len(typing) == 2 and all(t.startswith("typing is done very") for t in typing)
    assert all(len(t) <= 300 and t.endswith(" very") for t in typing)  # cut after a whole word
    assert output(tmp_path)["knitting"][0].startswith("knitting is answer")  # short ones are untouched
    assert max(f.stat().st_size for f in (tmp_path / "cache").rglob("*.json")) < 2048


def test_the_answer_caps_default_to_the_profiles_values():
    openai = yaml.safe_load((REPO / "profiles/embedded.yaml").read_text())["describe"]["openai"]
    cfg = parse(DescribeConfig, {"backend": "openai", "openai": {}}, "describe").openai
    assert (cfg.max_answer_bytes, cfg.max_description_chars) == (openai["max_answer_bytes"],
                                                                 openai["max_description_chars"]) == (1 << 20, 1000)
    with pytest.raises(ParamsError, match="max_answer_bytes"):
        parse(DescribeConfig, {"backend": "openai", "openai": {"max_answer_bytes": 0}}, "describe")


def test_a_key_pasted_into_params_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(ParamsError) as err:
        parse(DescribeConfig, {"backend": "openai", "openai": {"api_key_env": KEY}}, "describe")
    assert "NAME of an environment variable" in str(err.value) and KEY not in str(err.value)
    with pytest.raises(ParamsError, match="base_url must start with http"):
        parse(DescribeConfig, {"backend": "openai", "openai": {"base_url": "localhost:8000/v1"}}, "describe")
