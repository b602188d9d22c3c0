"""Profiles: ready configurations of the whole pipeline, one of which is params.yaml.

``profiles/<name>.yaml`` is a params file, or an overlay on another profile (``extends: <name>``)
that lists only what differs: mappings merge key by key, anything else (lists, values, and an
empty mapping ``{}``, which empties a section) replaces, and ``null`` removes a key.
``t2l profile <name>`` writes the merged result, comments kept, to params.yaml, which DVC reads as
usual. params.yaml as shipped is the ``embedded`` profile.
"""

from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from t2l.errors import UserError
from t2l.fsio import write_text

PROFILES = Path("profiles")
HEADER = ("# The {name!r} profile (profiles/{name}.yaml{chain}), written by `t2l profile {name}`: edit the profile and\n"
          "# run that again (an edit here lasts until the next `t2l profile`; `dvc exp run -S` for a trial).\n")


def _yaml() -> YAML:
    y = YAML()  # round-trip: keeps comments and order; builds only plain mappings, lists and scalars
    y.width, y.indent = 110, None
    y.map_indent, y.sequence_indent, y.sequence_dash_offset = 2, 4, 2
    return y


def names(directory: Path = PROFILES) -> list[str]:
    return sorted(p.stem for p in Path(directory).glob("*.yaml"))


def merge(base: CommentedMap, overlay: CommentedMap) -> CommentedMap:
    """``overlay`` into ``base``: mappings merge recursively, other values (``{}`` too) replace,
    with the overlay's comment; ``null`` removes the key."""
    for key, value in overlay.items():
        if isinstance(value, dict) and value and isinstance(base.get(key), dict):
            merge(base[key], value)
            continue
        base.ca.items.pop(key, None)
        if value is None:
            base.pop(key, None)
            continue
        base[key] = value
        if key in overlay.ca.items:
            base.ca.items[key] = overlay.ca.items[key]
    return base


def _load(name: str, directory: Path) -> CommentedMap:
    path = Path(directory) / f"{name}.yaml"
    if not path.is_file():
        raise UserError(f"profiles: no profile {name!r} ({path}); known: {', '.join(names(directory)) or 'none'}")
    data = _yaml().load(path.read_text())
    if not isinstance(data, dict):
        raise UserError(f"{path}: a profile is a mapping of params sections")
    return data


def resolve(name: str, directory: Path = PROFILES) -> tuple[CommentedMap, list[str]]:
    """The full params of profile ``name`` and the chain of profiles it was built from."""
    chain, layers = [], []
    while name is not None:
        if name in chain:
            raise UserError(f"profiles: {' -> '.join([*chain, name])} extends itself")
        data = _load(name, directory)
        chain.append(name)
        layers.append(data)
        name = data.pop("extends", None)
    params = layers[-1]
    for layer in reversed(layers[:-1]):
        params = merge(params, layer)
    return params, chain


def render(name: str, directory: Path = PROFILES) -> str:
    params, chain = resolve(name, directory)
    buf = io.StringIO()
    _yaml().dump(params, buf)
    return HEADER.format(name=name, chain="".join(f" on {c}" for c in chain[1:])) + buf.getvalue()


def write(name: str, out: Path, directory: Path = PROFILES) -> Path:
    write_text(out, render(name, directory))
    return out
