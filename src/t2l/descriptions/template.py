"""The ``template`` backend: deterministic offline descriptions, the embedded world's stand-in for the LLM.

A class of the embedded world (``<shape> <motion>``) is described as an LLM would describe an
action, by what happens over time, in the words of the world's captions
(``t2l.data.synth.motions.DESCRIPTIONS``); any other class gets generic templates over its name.
"""

from __future__ import annotations

from t2l.data.synth.motions import DESCRIPTIONS, split_class
from t2l.descriptions.names import readable
from t2l.descriptions.wording import TEMPLATES


def texts_for(name: str) -> tuple[str, ...]:
    """Every description the backend has for class ``name``, in order."""
    parts = split_class(name)
    if parts is not None:
        return tuple(t.format(shape=parts[0]) for t in DESCRIPTIONS[parts[1]])
    return tuple(t.format(name=readable(name)) for t in TEMPLATES)


def describe(names: list[str], n: int) -> dict[str, list[str]]:
    """The first ``n`` descriptions (all of them if ``n`` is larger) of each class name."""
    out = {}
    for name in names:
        out[name] = [t[0].upper() + t[1:] for t in texts_for(name)[:n]]
    return out
