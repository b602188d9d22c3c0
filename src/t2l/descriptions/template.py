"""The ``template`` backend: deterministic offline descriptions, one per template."""

from __future__ import annotations

from t2l.descriptions.names import readable

# worded to read sensibly for human actions ("apply eye makeup") and the embedded world ("star moving left")
TEMPLATES = (
    "{name} is an action seen in a video, recognised by how things move over time.",
    "a short video clip showing {name}.",
    "an example of {name}, from its start to its end.",
    "in this video, {name} happens over several frames.",
)


def describe(names: list[str], n: int) -> dict[str, list[str]]:
    """The first ``n`` templates (all of them if ``n`` is larger) over each class name."""
    out = {}
    for name in names:
        texts = (t.format(name=readable(name)) for t in TEMPLATES[:n])
        out[name] = [t[0].upper() + t[1:] for t in texts]
    return out
