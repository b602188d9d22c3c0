"""`mlflow models serve` of the registered champion answers REST requests with uploaded videos; `t2l
predict` gives the same answer through the same pyfunc. (tests/test_serve_attacks.py: what it refuses.)"""

from __future__ import annotations

import json

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import mlflow
import pandas as pd
import pytest
from fixtures_prefect import MODEL
from fixtures_serving import CLASSES, copy_model, served, upload
from helpers import run_t2l


@pytest.fixture(scope="module")
def model_copy(retrained, tmp_path_factory):
    return copy_model(f"models:/{MODEL}@champion", retrained.uri, tmp_path_factory.mktemp("champion"))


@pytest.fixture(scope="module")
def server(model_copy, tmp_path_factory):
    with served(model_copy, tmp_path_factory.mktemp("serve") / "serve.log") as (http, _):
        yield http


@pytest.fixture(scope="module")
def video(retrained):
    return retrained.project / "data/raw/synthetic/synthetic_target/heart_moving_left/test1_0000.mp4"


def test_the_champion_answers_a_rest_request_with_an_uploaded_video(server, video):
    reply = server.post("/invocations", json={"dataframe_records": [{"video": upload(video), "classes": CLASSES}],
                                              "params": {"top_k": 3}})
    assert reply.status_code == 200, reply.text
    (answer,) = reply.json()["predictions"]
    assert len(answer["classes"]) == 3 and set(answer["classes"]) <= set(CLASSES)
    probs = answer["probabilities"]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


def test_rows_are_answered_in_order_and_the_split_orientation_works_too(server, video, retrained):
    other = retrained.project / "data/raw/synthetic/synthetic_target/heart_rotating_clockwise/test1_0000.mp4"
    records = server.post("/invocations", json={"dataframe_records": [
        {"video": upload(video), "classes": CLASSES}, {"video": upload(other), "classes": CLASSES[:2]}]})
    split = server.post("/invocations", json={"dataframe_split": {
        "columns": ["video", "classes"], "data": [[upload(video), CLASSES], [upload(other), CLASSES[:2]]]}})
    assert records.status_code == split.status_code == 200, records.text + split.text
    assert records.json() == split.json()
    first, second = records.json()["predictions"]
    assert len(first["classes"]) == 4 and set(second["classes"]) == set(CLASSES[:2])


def test_bad_requests_get_a_400_that_says_why(server, video):
    reply = server.post("/invocations", json={"dataframe_records": [{"name": "nothing.mp4", "classes": CLASSES}]})
    assert reply.status_code == 400 and "give the clip as exactly one of `video`" in reply.json()["message"]
    reply = server.post("/invocations", json={"dataframe_records": [{"video": upload(video), "classes": [" ", ""]}]})
    assert reply.status_code == 400 and "row 0: no candidate classes" in reply.json()["message"]
    reply = server.post("/invocations", json={"dataframe_records": [{"video": upload(video), "classes": "a,b"}]})
    assert reply.status_code == 400  # the signature wants a list of class names


def test_a_repeated_class_list_is_encoded_once_across_requests(model_copy, video):
    model = mlflow.pyfunc.load_model(str(model_copy))
    clip = pd.DataFrame({"video": [video.read_bytes()], "classes": [CLASSES]})
    first, second = model.predict(clip), model.predict(clip)
    assert first.to_dict("records") == second.to_dict("records")
    cache = model.unwrap_python_model().class_embeddings.cache_info()
    assert (cache.hits, cache.misses) == (1, 1) and cache.maxsize > 1


def test_t2l_predict_gives_the_served_answer_from_the_registry_and_from_a_run_dir(server, retrained, video):
    reply = server.post("/invocations", json={"dataframe_records": [{"video": upload(video), "classes": CLASSES}]})
    (expected,) = reply.json()["predictions"]
    assert len(expected["classes"]) == len(CLASSES)  # default top_k (5) > 4 candidates
    env = {"MLFLOW_TRACKING_URI": retrained.uri}
    for model in (f"models:/{MODEL}@champion", "models/zero_shot/zs-t2l/main"):
        out = run_t2l("predict", str(video), "--classes", ",".join(CLASSES), "--model", model,
                      cwd=retrained.project, env=env)
        (got,) = json.loads(out.stdout)
        assert got["video"] == str(video) and got["classes"] == expected["classes"]
        assert got["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-5)
