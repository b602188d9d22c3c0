"""Classes renamed between datasets, so that a renamed class does not count as unseen.

KINETICS_400_TO_600 maps Kinetics-400 names to the Kinetics-600 names of the same classes. It was
found by comparing the official class lists after ``normalise_class_name``: 31 K400 names are absent
from K600; these 11 were renamed (spelling, a clarifying phrase, or the class narrowed when K600
split it), the other 20 were dropped or merged into an existing class ("strumming guitar" into
"playing guitar"). The K600 classes absent from K400 are then 231 - 11 = 220.
"""

from __future__ import annotations

from t2l.data.splits.schema import normalise_class_name

KINETICS_400_TO_600 = {
    "baby waking up": "waking up",
    "balloon blowing": "inflating balloons",
    "changing wheel": "changing wheel (not on bike)",
    "cooking sausages": "cooking sausages (not on barbeque)",
    "dying hair": "dyeing hair",
    "garbage collecting": "person collecting garbage",
    "hugging": "hugging (not baby)",
    "making bed": "making the bed",
    "opening bottle": "opening bottle (not wine)",
    "throwing ball": "throwing ball (not baseball or American football)",
    "tying tie": "tying necktie",
}
_RENAMES = {normalise_class_name(a): normalise_class_name(b) for a, b in KINETICS_400_TO_600.items()}
_PARTNER = {**_RENAMES, **{b: a for a, b in _RENAMES.items()}}  # each normalised name <-> its other name
RENAME_TABLE = f"{__name__}.KINETICS_400_TO_600"


def seen(source: list[str]) -> set[str]:
    """Normalised names a model trained on ``source`` classes has seen: theirs and their renames."""
    names = {normalise_class_name(n) for n in source}
    return names | {_PARTNER[n] for n in names if n in _PARTNER}


def overlap(source: list[str], target: list[str]) -> tuple[list[str], list[dict]]:
    """Target classes seen by a model trained on ``source`` and, of those, the renamed ones as
    ``{"source": name, "target": name}``."""
    by_norm = {normalise_class_name(n): n for n in source}
    seen_names = seen(source)
    shared = [t for t in target if normalise_class_name(t) in seen_names]
    renamed = [{"source": by_norm[_PARTNER[normalise_class_name(t)]], "target": t}
               for t in shared if normalise_class_name(t) not in by_norm]
    return shared, renamed
