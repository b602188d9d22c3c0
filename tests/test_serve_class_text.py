"""The text the served model encodes each class with: evaluation's for the classes it was evaluated
on, the registered describe backend's (a real OpenAI-compatible server on 127.0.0.1 here) or the
name templates for the rest, and which one it was."""

from __future__ import annotations

import json
import threading

import pytest
from helpers import chat_server

from t2l.data.splits.schema import CLASSES_FILE, classes_frame
from t2l.descriptions.wording import NAME_PROMPTS
from t2l.errors import UserError
from t2l.fsio import write_csv, write_json
from t2l.serve.class_text import TextSource
from t2l.serve.evaluation_text import evaluation_text

KEY_ENV = "T2L_TEST_SERVE_LLM_KEY"


def names_prompts(name: str) -> tuple[str, ...]:
    return tuple(t.format(name) for t in NAME_PROMPTS)


@pytest.fixture()
def project(tmp_path):
    """Two datasets' class maps; descriptions of the first, one class left undescribed."""
    for dataset, names in (("ucf", ["ApplyEyeMakeup", "Typing", "Knitting"]), ("hmdb", ["golf", "Typing"])):
        (tmp_path / "splits" / dataset).mkdir(parents=True)
        write_csv(tmp_path / "splits" / dataset / CLASSES_FILE, classes_frame(names))
    write_json(tmp_path / "descriptions/ucf.json", {"ApplyEyeMakeup": ["Someone puts on eye make-up"],
                                                    "Typing": ["Fingers on a keyboard"]})
    write_json(tmp_path / "descriptions/ucf.report.json", {"dataset": "ucf", "backend": "openai"})
    return tmp_path


def test_the_package_carries_the_text_evaluation_used_for_every_class(project, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-packaged")
    params = {"datasets": {"ucf": {}, "hmdb": {}}, "describe": {"backend": "template"}}
    text = evaluation_text(params, project / "splits", project / "descriptions")
    assert text["classes"]["ApplyEyeMakeup"] == {"texts": ["Someone puts on eye make-up"],
                                                 "source": "descriptions of ucf (openai)"}
    assert text["classes"]["Typing"]["texts"] == ["Fingers on a keyboard"]  # ucf comes first in params
    assert text["classes"]["Knitting"] == {"texts": list(names_prompts("Knitting")), "source": "names"}
    assert text["classes"]["golf"]["source"] == "names"
    assert text["describe"]["backend"] == "template" and "sk-never-packaged" not in json.dumps(text)
    off = evaluation_text({**params, "evaluate": {"descriptions": False}}, project / "splits", project / "descriptions")
    assert {c["source"] for c in off["classes"].values()} == {"names"}


def test_evaluated_classes_match_by_name_or_readable_form_and_others_go_to_the_template_backend(project):
    params = {"datasets": {"ucf": {}}, "describe": {"backend": "template", "n": 2}}
    source = TextSource(evaluation_text(params, project / "splits", project / "descriptions"), keep=8)
    names = ("apply eye makeup", "ApplyEyeMakeup", "juggling balls", "heart moving left")
    (got,) = source.texts({names}, "descriptions", max_new=10).values()
    assert [t.source for t in got] == ["descriptions of ucf (openai)"] * 2 + ["template descriptions"] * 2
    assert got[0].prompts == got[1].prompts == ("Someone puts on eye make-up",)
    assert len(got[2].prompts) == 2 and "juggling balls" in got[2].prompts[0].lower()
    assert "heart" in got[3].prompts[0] and "left" in got[3].prompts[0]  # the world's motion wording
    (plain,) = source.texts({names}, "names", max_new=10).values()
    assert [t.prompts for t in plain] == [names_prompts(n) for n in names] and {t.source for t in plain} == {"names"}
    with pytest.raises(UserError, match="params.text: 'captions'; must be one of descriptions, names"):
        source.texts({names}, "captions", max_new=10)
    assert TextSource(None, keep=8).texts({names}, "descriptions", 10)[names][2].source == "names"  # an older package


class LLM:
    """A chat-completions server on 127.0.0.1 answering one description per class, or 400 for ``refuse``."""

    def __init__(self, refuse: str = ""):
        self.asked: list[str] = []
        llm = self

        def answer(body):
            asked = body["messages"][-1]["content"]
            llm.asked.append(asked)
            if refuse and refuse in asked:
                return 400, {"error": "no"}
            return 200, {"choices": [{"message": {"content": f"People doing {asked.split()[1]} {i}"}}
                                     for i in range(body["n"])]}

        self.httpd, self.url = chat_server(answer)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def openai_source(tmp_path, url: str, env: dict) -> TextSource:
    describe = {"backend": "openai", "n": 2, "cache_dir": str(tmp_path / "cache"),
                "openai": {"base_url": url, "model": "local-llm", "api_key_env": KEY_ENV, "prompt": "describe {category}",
                           "max_retries": 0, "timeout_s": 5}}
    return TextSource({"describe": describe, "classes": {}}, keep=8, env=env)


def test_the_openai_backend_describes_new_classes_once_when_its_key_is_set_and_names_otherwise(tmp_path, monkeypatch):
    llm = LLM(refuse="typing")
    monkeypatch.setenv(KEY_ENV, "sk-local")
    source = openai_source(tmp_path, llm.url, {KEY_ENV: "sk-local"})
    (got,) = source.texts({("knitting", "golf")}, "descriptions", max_new=2).values()
    assert [t.source for t in got] == ["openai descriptions (local-llm)"] * 2
    assert got[0].prompts == ("People doing knitting 0", "People doing knitting 1")
    asked = len(llm.asked)
    source.texts({("golf", "knitting")}, "descriptions", max_new=2)
    assert len(llm.asked) == asked  # kept: no second request
    with pytest.raises(UserError, match="request: 3 classes to describe, over the limit of 2 per request"):
        source.texts({("a", "b", "c")}, "descriptions", max_new=2)
    assert len(llm.asked) == asked  # refused before asking
    (failed,) = source.texts({("typing",)}, "descriptions", max_new=2).values()
    assert failed[0].source == "names" and failed[0].prompts == names_prompts("typing")

    keyless = openai_source(tmp_path, llm.url, {})
    assert keyless.texts({("juggling",)}, "descriptions", max_new=2)[("juggling",)][0].source == "names"
    assert "describe juggling" not in llm.asked
    llm.httpd.shutdown()
