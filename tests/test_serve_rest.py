"""`mlflow models serve` of the registered champion answers REST requests with uploaded videos as
its evaluation scored them (the same text per class, the same frames), and answers right where the
answer is known; `t2l predict` gives the same answer through the same pyfunc.
(tests/test_serve_attacks.py: what it refuses.)"""

from __future__ import annotations

import json

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import mlflow
import numpy as np
import pandas as pd
import pytest
from fixtures_prefect import MODEL
from fixtures_serving import CLASSES, copy_model, served, upload
from helpers import run_t2l

from t2l.data.synth.render import BACKGROUNDS

TARGET = "data/protocols/zero_shot/targets/synthetic_target"  # the embedded target's split files
EVALUATED = "descriptions of synthetic_target (template)"  # the text source of its classes, as evaluated


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
    assert model.unwrap_python_model().class_embeddings.encoded == len(CLASSES)
    model.predict(pd.DataFrame({"video": [video.read_bytes()], "classes": [CLASSES[:2] + ["a new class"]]}))
    assert model.unwrap_python_model().class_embeddings.encoded == len(CLASSES) + 1  # only the new class


def split_clips(project, split: str) -> tuple[list, list[str]]:
    """The clips of a target split (as files) and its class list, in the evaluation's order."""
    rows = pd.read_csv(project / TARGET / f"{split}.csv")
    names = pd.read_csv(project / TARGET / "classes.csv").sort_values("label")["class_name"].tolist()
    return [project / "data/raw/synthetic/synthetic_target" / p for p in rows["path"]], names


def test_the_champion_scores_every_target_split_as_its_evaluation_did(server, retrained):
    project, files, answered = retrained.project, [], []
    metrics = json.loads((project / "metrics/zero_shot.json").read_text())["t2l"]["synthetic_target"]["splits"]
    for split in ("test1", "test2"):
        clips, names = split_clips(project, split)
        answers = []
        for clip in clips:  # every clip of the split, as a client sends it, with the split's class list
            reply = server.post("/invocations", json={"dataframe_records": [{"video": upload(clip), "classes": names}],
                                                      "params": {"top_k": len(names)}})
            assert reply.status_code == 200, reply.text
            answers += reply.json()["predictions"]
        report = project / "reports/zero_shot/t2l/main" / f"synthetic_target_{split}"
        per_class = pd.read_csv(report.with_suffix(".per_class.csv"))
        evaluated = pd.read_csv(report.with_suffix(".confusion.csv"))  # one row per clip: actual, predicted
        assert sum(a["classes"][0] == actual for a, actual in zip(answers, evaluated["actual"])) == \
            round((per_class["videos"] * per_class["top1"]).sum())  # the evaluation's top-1 count, exactly
        assert [a["classes"][0] for a in answers] == evaluated["predicted"].tolist()
        # the scores too, not only their order: the spread of each clip's logits (log-probabilities up to
        # a constant) is the evaluation's, up to the JPEG and resizing noise of the archives' frames
        spread = np.mean([np.log(a["probabilities"]).std() for a in answers])
        assert spread == pytest.approx(metrics[f"synthetic_target/{split}"]["logit_std"], rel=0.05), split
        assert all(a["text"] == [EVALUATED] * len(names) for a in answers)
        files, answered = files + clips, answered + answers

    out = run_t2l("predict", *map(str, files), "--classes", ",".join(names), "--top-k", "1",
                  "--model", f"models:/{MODEL}@champion", cwd=project, env={"MLFLOW_TRACKING_URI": retrained.uri})
    assert [got["classes"] for got in json.loads(out.stdout)] == [a["classes"][:1] for a in answered]


def test_free_text_classes_are_described_by_the_registered_backend_and_answered_right(server, retrained):
    """Each clip's background, known from the world's table, among every background: a model that
    does not see the frames, or reads them wrong, fails."""
    world = pd.read_csv(retrained.project / "data/raw/synthetic/synthetic_target/clips.csv")
    candidates = [f"a shape on a {b} background" for b in BACKGROUNDS]
    rows = [{"video": upload(retrained.project / "data/raw/synthetic/synthetic_target" / p), "classes": candidates}
            for p in world["path"]]
    answers = {}
    for text in ("descriptions", "names"):
        answers[text] = []
        for start in range(0, len(rows), 4):
            reply = server.post("/invocations", json={"dataframe_records": rows[start:start + 4],
                                                      "params": {"top_k": 1, "text": text}})
            assert reply.status_code == 200, reply.text
            answers[text] += reply.json()["predictions"]
    assert [a["classes"][0] for a in answers["descriptions"]] == [f"a shape on a {b} background" for b in world["background"]]
    assert all(a["text"] == ["template descriptions"] for a in answers["descriptions"])
    assert all(a["text"] == ["names"] for a in answers["names"])
    reply = server.post("/invocations", json={"dataframe_records": rows[:1], "params": {"text": "captions"}})
    assert reply.status_code == 400 and "params.text: 'captions'; must be one of descriptions, names" in reply.text


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
