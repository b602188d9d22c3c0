"""ALT's entity corpus: label words, the embedded world's template, a user's file, an LLM server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from helpers import chat_server

from t2l.data.splits.schema import CLASSES_FILE, classes_frame
from t2l.data.synth.motions import REVERSAL
from t2l.descriptions import entity_template
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.corpus import read_corpus
from t2l.descriptions.entities import BODY_PARTS, EntitiesConfig, build, label_units, parse_units, run
from t2l.errors import UserError
from t2l.fsio import write_csv
from t2l.params import ParamsError, parse


def units(corpus) -> dict[str, str]:
    return {e.unit: e.kind for e in corpus}


def test_label_words_drop_stop_words_but_keep_directions():
    assert label_units("PlayingWithABall") == ["playing", "ball"]
    assert label_units("star moving up") == ["star", "moving", "up"]
    assert label_units("push_ups") == ["push", "ups"]


def test_a_world_label_gives_its_shape_motion_and_place_and_the_world_its_common_entities():
    corpus, _ = build(EntitiesConfig(), ["star moving left", "square growing", "star moving right"])
    found = units(corpus)
    assert list(found)[:len(BODY_PARTS)] == list(BODY_PARTS)  # body parts always, first
    assert {k: found[k] for k in ("star", "moving left", "left side", "growing", "large shape", "right side")} == {
        "star": "object", "moving left": "motion", "left side": "scene", "growing": "motion",
        "large shape": "object", "right side": "scene"}
    assert {"red shape", "grey background", "centre", "small shape"} <= set(found)
    assert len(found) == len(corpus)  # each unit once


def test_the_world_template_knows_every_motion_of_the_world():
    assert set(entity_template.MOTIONS) == set(REVERSAL)
    assert entity_template.split_label("heart rotating counterclockwise") == ("heart", "rotating counterclockwise")
    assert entity_template.split_label("moving left") is None


def test_other_labels_fall_back_to_their_words():
    found = {e.unit: e for e in build(EntitiesConfig(), ["apply eye makeup"])[0]}
    assert found["makeup"].kind == "label word" and "apply eye makeup" in found["makeup"].description
    assert "red shape" not in found and "hands" in found


def test_llm_answers_parse_into_kinds_and_units():
    answer = ("Objects: tennis ball, Racket; body parts: hands, arms. Scenes: tennis court; "
              "primitive motions: swinging the arm; none")
    assert parse_units(answer) == [("object", "tennis ball"), ("object", "racket"), ("body part", "hands"),
                                   ("body part", "arms"), ("scene", "tennis court"), ("motion", "swinging the arm")]
    assert parse_units("- Objects:\n- ball\n- a very long sentence that is no unit at all\nMotion: kick") == [
        ("object", "ball"), ("motion", "kick")]
    assert parse_units("I would say a ball.") == []


def test_a_users_corpus_file_gets_the_body_parts_too(tmp_path):
    path = tmp_path / "corpus.json"
    path.write_text(json.dumps([{"unit": "Bow", "description": "a weapon for shooting arrows", "kind": "object"},
                                {"unit": "hands", "description": "as the user words it"}]))
    corpus, _ = build(EntitiesConfig(backend="file", path=str(path)), ["archery"])
    found = {e.unit: e for e in corpus}
    assert found["bow"].description == "a weapon for shooting arrows"
    assert found["hands"].description == BODY_PARTS["hands"]  # the built-in body parts come first
    path.write_text(json.dumps({"bow": "a weapon for shooting arrows"}))
    assert read_corpus(path)[0].unit == "bow" and read_corpus(path)[0].kind == ""


@pytest.mark.parametrize("content", ['[{"unit": "bow"}]', "[]", '"bow"', '[{"unit": "", "description": "x"}]'])
def test_a_bad_corpus_file_is_a_user_error_naming_it(tmp_path, content):
    path = tmp_path / "corpus.json"
    path.write_text(content)
    with pytest.raises(UserError, match=re.escape(str(path))):
        read_corpus(path)


def test_config_errors_name_their_key():
    with pytest.raises(ParamsError, match="entities.backend"):
        parse(EntitiesConfig, {"backend": "wordnet"}, "entities")
    with pytest.raises(ParamsError, match="entities.path"):
        EntitiesConfig(backend="file")
    with pytest.raises(ParamsError, match="entities.unit_prompt"):
        EntitiesConfig(unit_prompt="explain it")


class EntityLLM:
    """Chat-completions server: entity lists per label, one sentence per unit; counts requests."""

    def __init__(self):
        self.prompts: list[str] = []
        server = self

        def answer(body):
            prompt = body["messages"][-1]["content"]
            server.prompts.append(prompt)
            if m := re.match(r"What are identifying .* of an action (.+)\? List", prompt):
                text = ("Objects: ball, racket; body parts: hands, arms; scenes: court; motions: swinging"
                        if m.group(1) == "tennis swing" else "I am not sure.")
            else:
                text = re.match(r"Concisely explain (.+) in one sentence", prompt).group(1) + " explained."
            return 200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}

        self.httpd, self.url = chat_server(answer)


@pytest.fixture()
def llm(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = EntityLLM()
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_the_llm_lists_entities_per_label_and_explains_each_unit_once_then_answers_come_from_the_cache(llm, tmp_path):
    splits = tmp_path / "splits"
    write_csv(splits / "tiny" / CLASSES_FILE, classes_frame(["tennis swing", "juggling balls"]))
    describe = parse(DescribeConfig, {"backend": "template", "cache_dir": str(tmp_path / "cache"),
                                      "openai": {"base_url": llm.url, "model": "fake-1", "api_key_env": "T2L_NO_KEY"}},
                     "describe")
    summary = run(EntitiesConfig(backend="openai"), describe, "tiny", splits, tmp_path / "out")
    corpus = {e["unit"]: e for e in json.loads((tmp_path / "out" / "tiny.entities.json").read_text())}
    report = json.loads((tmp_path / "out" / "tiny.entities.report.json").read_text())
    assert corpus["racket"] == {"unit": "racket", "kind": "object", "description": "racket explained."}
    assert corpus["court"]["kind"] == "scene" and corpus["swinging"]["kind"] == "motion"
    assert corpus["juggling"]["kind"] == "label word" and corpus["balls"]["description"] == "balls explained."
    assert corpus["hands"]["description"] == BODY_PARTS["hands"]  # body parts keep their built-in wording
    assert report["labels_without_listed_entities"] == ["juggling balls"] and report["entities"] == len(corpus)
    asked = len(llm.prompts)
    assert asked == summary["requests"] == 2 + 8  # two labels; ball, racket, court, swinging + four label words
    again = run(EntitiesConfig(backend="openai"), describe, "tiny", splits, tmp_path / "again")
    assert len(llm.prompts) == asked and again["cached"] == asked
    assert Path(tmp_path / "again" / "tiny.entities.json").read_text() == Path(tmp_path / "out" / "tiny.entities.json").read_text()
