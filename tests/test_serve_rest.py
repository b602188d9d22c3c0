"""`mlflow models serve` of the registered champion answers REST requests with real videos; `t2l
predict` gives the same answer through the same pyfunc."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import httpx
import pytest

from conftest import BIN, run_t2l
from fixtures_prefect import MODEL

CLASSES = ["heart moving left", "heart moving right", "heart rotating clockwise", "heart rotating counterclockwise"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(retrained, tmp_path_factory):
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": retrained.uri, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w+")
    proc = subprocess.Popen([str(BIN / "mlflow"), "models", "serve", "-m", f"models:/{MODEL}@champion",
                             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=url, trust_env=False, timeout=60)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if http.get("/ping").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            log.seek(0)
            assert proc.poll() is None and time.monotonic() < deadline, f"server did not start:\n{log.read()[-3000:]}"
            time.sleep(0.5)
        yield http
    finally:
        http.close()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def video(retrained):
    return retrained.project / "data/raw/synthetic/synthetic_target/heart_moving_left/test1_0000.mp4"


def test_the_champion_answers_a_rest_request_with_a_real_video(server, video):
    reply = server.post("/invocations", json={"dataframe_records": [{"video": str(video), "classes": CLASSES}],
                                              "params": {"top_k": 3}})
    assert reply.status_code == 200, reply.text
    (answer,) = reply.json()["predictions"]
    assert answer["video"] == str(video) and len(answer["classes"]) == 3 and set(answer["classes"]) <= set(CLASSES)
    probs = answer["probabilities"]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


def test_bad_requests_get_a_400_that_says_why(server, tmp_path):
    missing = tmp_path / "missing.mp4"
    reply = server.post("/invocations", json={"dataframe_records": [{"video": str(missing), "classes": CLASSES}]})
    assert reply.status_code == 400 and f"{missing}: cannot read the video" in reply.json()["message"]
    reply = server.post("/invocations", json={"dataframe_records": [{"video": str(missing), "classes": "a,b"}]})
    assert reply.status_code == 400  # the signature wants a list of class names


def test_t2l_predict_gives_the_served_answer_from_the_registry_and_from_a_run_dir(server, retrained, video):
    served = server.post("/invocations", json={"dataframe_records": [{"video": str(video), "classes": CLASSES}]})
    (expected,) = served.json()["predictions"]
    assert len(expected["classes"]) == len(CLASSES)  # default top_k (5) > 4 candidates
    env = {"MLFLOW_TRACKING_URI": retrained.uri}
    for model in (f"models:/{MODEL}@champion", "models/zero_shot/zs-t2l/main"):
        out = run_t2l("predict", str(video), "--classes", ",".join(CLASSES), "--model", model,
                      cwd=retrained.project, env=env)
        (got,) = json.loads(out.stdout)
        assert got["classes"] == expected["classes"]
        assert got["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-5)
