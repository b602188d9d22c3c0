"""Class names: the class map's order, one readable form that matches names across spellings, and
every wording of class text built from a name alone."""

from __future__ import annotations

import re
from pathlib import Path

from t2l.data.splits.schema import CLASSES_FILE, normalise_class_name, read_table

# The models' prompts for a class that has no description: its name in a neutral template ensemble.
NAME_PROMPTS = ("a video of {}.", "a clip of {}.", "{}.", "a video showing {}.", "footage of {}.")

# The template backend's descriptions of a class that is not of the embedded world, worded to
# read sensibly for human actions ("apply eye makeup").
TEMPLATES = (
    "{name} is an action seen in a video, recognised by how things move over time.",
    "a short video clip showing {name}.",
    "an example of {name}, from its start to its end.",
    "in this video, {name} happens over several frames.",
)


def class_names(splits_dir: Path, dataset: str) -> list[str]:
    """Class names of ``dataset`` in label order, from its ``classes.csv``."""
    frame = read_table(Path(splits_dir) / dataset / CLASSES_FILE)
    return list(frame.assign(label=frame["label"].astype(int)).sort_values("label")["class_name"])


def readable(name: str) -> str:
    """``ApplyEyeMakeup``, ``apply_eye_makeup`` and ``Apply eye-makeup`` all become ``apply eye makeup``."""
    return normalise_class_name(re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name)))
