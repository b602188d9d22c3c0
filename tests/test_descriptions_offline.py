"""Offline describe backends (template, file), cleaning and checks of answers, tokens, retry timing."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from t2l.data.splits.schema import CLASSES_FILE, classes_frame
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.names import readable
from t2l.descriptions.retry import delay, retry_after
from t2l.descriptions.stage import run
from t2l.descriptions.text import clean, problem
from t2l.errors import UserError
from t2l.fsio import write_csv
from t2l.params import parse

REFERENCE_CSV = '''SNo,Class Name,GPT3 discription
1,ApplyEyeMakeup,"

ApplyEyeMakeup is an action performed by humans to enhance their eyes."
2,PizzaTossing,"

Pizza tossing is an art form of spinning and stretching dough."
3,Typing,"

Typing is an action performed by humans using a keyboard."
'''


def describe(tmp_path, classes, **section):
    write_csv(tmp_path / "splits" / "tiny" / CLASSES_FILE, classes_frame(classes))
    cfg = parse(DescribeConfig, section, "describe")
    summary = run(cfg, "tiny", tmp_path / "splits", tmp_path / "out")
    return summary, json.loads((tmp_path / "out" / "tiny.json").read_text())


@pytest.fixture()
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the offline backends must not open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_template_backend_is_deterministic_and_offline(tmp_path, no_network):
    classes = ["star moving left", "ApplyEyeMakeup"]
    _, first = describe(tmp_path / "a", classes, backend="template", n=4)
    _, again = describe(tmp_path / "b", classes, backend="template", n=4)
    assert first == again and list(first) == classes
    assert first["star moving left"][0] == "A star that starts at the right and ends at the left"  # the world: caption words
    assert first["ApplyEyeMakeup"][1] == "A short video clip showing apply eye makeup."
    assert len(set(first["star moving left"])) == 4
    _, two = describe(tmp_path / "c", classes, backend="template", n=2)
    _, many = describe(tmp_path / "d", classes, backend="template", n=9)
    assert two["star moving left"] == first["star moving left"][:2] and many == first


def test_file_backend_reads_the_reference_csv(tmp_path, no_network):
    path = tmp_path / "ucf.csv"
    path.write_text(REFERENCE_CSV)
    _, got = describe(tmp_path, ["apply eye makeup", "Typing"], backend="file", file={"path": str(path)})
    assert got == {"apply eye makeup": ["ApplyEyeMakeup is an action performed by humans to enhance their eyes."],
                   "Typing": ["Typing is an action performed by humans using a keyboard."]}


def test_file_backend_reads_json_lists_and_strings(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"Star_Moving_Left": ["  one.", '"two."'], "heart growing": "three."}))
    _, got = describe(tmp_path, ["heart growing", "star moving left"], backend="file", file={"path": str(path)})
    assert got == {"heart growing": ["three."], "star moving left": ["one.", "two."]}


def test_file_backend_lists_classes_it_cannot_match_and_writes_nothing(tmp_path):
    path = tmp_path / "ucf.csv"
    path.write_text(REFERENCE_CSV)
    with pytest.raises(UserError, match=r"no description for 2 of 3 classes .*: archery, yo yo$"):
        describe(tmp_path, ["archery", "typing", "yo yo"], backend="file", file={"path": str(path)})
    assert not (tmp_path / "out").exists()


def test_file_backend_names_the_expected_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,text\nx,y\n")
    with pytest.raises(UserError, match="expected columns Class Name,GPT3 discription or class_name,description"):
        describe(tmp_path, ["x"], backend="file", file={"path": str(path)})


def test_readable_names_match_across_spellings():
    assert {readable(n) for n in ["ApplyEyeMakeup", "apply_eye_makeup", "Apply eye-makeup"]} == {"apply eye makeup"}
    assert readable("YoYo") == "yo yo" and readable("star moving left") == "star moving left"


@pytest.mark.parametrize("raw, cleaned", [
    ('  "Description:  Typing is\n typing."  ', "Typing is typing."),
    ("**Answer:** \u201cKnitting makes loops.\u201d", "Knitting makes loops."),
    ("Typing: pressing keys.", "Typing: pressing keys."),
])
def test_clean(raw, cleaned):
    assert clean(raw) == cleaned


@pytest.mark.parametrize("answer, why", [
    (None, "non-text"), (["a"], "non-text"), (' "" ', "empty"),
    ("I\u2019m sorry, I can't help with that.", "refusal"), ("As an AI language model, I ...", "refusal"),
    ("I cannot provide that.", "refusal"),
])
def test_unusable_answers_are_named(answer, why):
    assert why in problem(answer)


def test_good_answers_pass():
    assert problem("Typing is an action performed by humans using a keyboard.") is None


def test_descriptions_longer_than_clip_context_are_reported(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"typing": ["Typing is short.", " ".join(["typing"] * 100)]}))
    summary, _ = describe(tmp_path, ["typing"], backend="file", file={"path": str(path)})
    report = json.loads((tmp_path / "out" / "tiny.report.json").read_text())["tokens"]
    assert summary["longer_than_77_tokens"] == report["truncated"] == 1
    assert report["truncated_descriptions"] == [{"class_name": "typing", "index": 1, "tokens": 102}]


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after("3") == 3.0 and retry_after(None) is None and retry_after("soon") is None
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_after(when) <= 30
    assert retry_after(format_datetime(datetime(2000, 1, 1, tzinfo=timezone.utc), usegmt=True)) == 0.0


def test_backoff_is_full_jitter_below_the_cap():
    waits = [delay(4, base=1.0, cap=5.0) for _ in range(200)]
    assert all(0 <= w <= 5.0 for w in waits) and max(waits) > 4.0 and min(waits) < 1.0
    assert delay(1, base=1.0, cap=5.0, server_wish=2.5) == 2.5 and delay(1, 1.0, 5.0, server_wish=99) == 5.0
