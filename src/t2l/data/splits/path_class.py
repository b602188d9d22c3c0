"""Datasets whose video paths encode the class: which class a path names.

An adapter records its rule as ``path_class`` in ``dataset.json``; validation then checks every
row's label against its path, which catches split files with swapped labels.
"""

from __future__ import annotations

import re
from typing import Callable

_UCF = re.compile(r"([^/]+)/v_([^/_]+)_g\d+_c\d+\.\w+")


def squash(name: str) -> str:
    """Lower case letters and digits only: "HandStandPushups", "handstand pushups" -> "handstandpushups"."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _first_dir(path: str) -> str:
    """``<class>/<video>`` (HMDB-51, the embedded world)."""
    head, sep, _ = path.partition("/")
    return head if sep else ""


def _ucf101(path: str) -> str:
    """``<Class>/v_<Class>_gNN_cNN.avi``: folder and file name must name the same class."""
    m = _UCF.fullmatch(path)
    return m[1] if m and squash(m[1]) == squash(m[2]) else ""


RULES: dict[str, Callable[[str], str]] = {"ucf101": _ucf101, "hmdb51": _first_dir, "synthetic": _first_dir}


def class_keys(rule: str, paths) -> list[str]:
    """The squashed class name each path encodes under ``rule`` ("" where the path names none)."""
    of = RULES[rule]
    return [squash(of(p)) if isinstance(p, str) else "" for p in paths]
