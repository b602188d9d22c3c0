"""Which text encodes each candidate class of a request, and where it came from.

``descriptions`` (the default): a class the model was evaluated on gets the text evaluation encoded
it with (t2l.serve.evaluation_text), matched by its exact name, else by its readable form
(``ApplyEyeMakeup`` is ``apply eye makeup``). Any other class is described by the backend the model
was registered with where that backend runs here: ``template`` always (offline); ``openai`` when
its key variable (``describe.openai.api_key_env``) is set in the serving environment, with the
section's limits and answers cached under its ``cache_dir``. Otherwise, and for ``names``, a class
is encoded by the name templates, as for a model packaged without evaluation text.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping

from t2l.descriptions import template
from t2l.descriptions.chat import ChatDescriber
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.names import readable
from t2l.errors import UserError
from t2l.model.text import class_texts
from t2l.params import parse
from t2l.serve.evaluation_text import NAMES

MODES = ("descriptions", "names")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassText:
    prompts: tuple[str, ...]
    source: str  # e.g. "descriptions of synthetic_target (template)", "openai descriptions", "names"


def _names(name: str) -> ClassText:
    return ClassText(tuple(class_texts([name])[0]), NAMES)


class TextSource:
    def __init__(self, artifact: dict | None, keep: int, env: Mapping[str, str] = os.environ):
        artifact = artifact or {}
        self.evaluated = {n: ClassText(tuple(c["texts"]), c["source"]) for n, c in artifact.get("classes", {}).items()}
        forms: dict[str, set[str]] = {}
        for name in self.evaluated:
            forms.setdefault(readable(name), set()).add(name)
        self.by_form = {form: names.pop() for form, names in forms.items() if len(names) == 1}
        describe = artifact.get("describe")
        self.describe = parse(DescribeConfig, describe, "describe") if describe else None
        self.backend = self._backend(env)
        self.described: OrderedDict[str, ClassText] = OrderedDict()  # the openai backend's answers, newest last
        self.keep = keep

    def _backend(self, env: Mapping[str, str]) -> str | None:
        """The backend that describes classes without evaluation text here, if any."""
        if self.describe is None:
            return None
        if self.describe.backend == "template":
            return "template"
        if self.describe.backend == "openai" and env.get(self.describe.openai.api_key_env):
            return "openai"
        return None

    def _evaluated(self, name: str) -> ClassText | None:
        found = self.evaluated.get(name)
        if found is None and readable(name) in self.by_form:
            found = self.evaluated[self.by_form[readable(name)]]
        return found

    def texts(self, lists: set[tuple[str, ...]], mode: str, max_new: int) -> dict[tuple[str, ...], list[ClassText]]:
        """The text of every class of every list of one request; the openai backend is asked for at
        most ``max_new`` classes (a UserError past that, before it is asked anything)."""
        if mode not in MODES:
            raise UserError(f"params.text: {mode!r}; must be one of {', '.join(MODES)}")
        if mode == "names":
            return {names: [_names(n) for n in names] for names in lists}
        if self.backend == "openai":
            asked = list(dict.fromkeys(n for names in lists for n in names
                                       if self._evaluated(n) is None and n not in self.described))
            if len(asked) > max_new:
                raise UserError(f"request: {len(asked)} classes to describe, over the limit of {max_new} per request; "
                                "send them over several requests (described ones are kept)")
            self._ask(asked)
        return {names: [self._evaluated(n) or self._described(n) for n in names] for names in lists}

    def _described(self, name: str) -> ClassText:
        if self.backend == "template":
            (texts,) = template.describe([name], self.describe.n).values()
            return ClassText(tuple(texts), "template descriptions")
        if name in self.described:
            self.described.move_to_end(name)
            return self.described[name]
        return _names(name)

    def _ask(self, names: list[str]) -> None:
        """Describe ``names`` with the openai backend. If any class fails, this request encodes them
        all by the name templates (the log says why); the answers that came are cached for the next."""
        if not names:
            return
        chat = ChatDescriber(self.describe)
        try:
            found = chat.describe(names)
        except UserError as e:
            _log.warning("%d classes encoded by the name templates: %s", len(names), e)
            return
        for name, texts in found.items():
            self.described[name] = ClassText(tuple(texts), f"openai descriptions ({self.describe.openai.model})")
            if len(self.described) > self.keep:
                self.described.popitem(last=False)
