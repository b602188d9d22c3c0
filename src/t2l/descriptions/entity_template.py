"""Entities of the embedded world, for the offline ``template`` backend of the entities stage.

A world label is ``"<shape> <motion>"``; its entities are the shape (object), the motion
primitive and the part of the frame or the size it leads to. Every world corpus also holds what
any clip may show: positions, sizes, the shapes' colours and the backgrounds.
"""

from __future__ import annotations

from t2l.data.synth.render import BACKGROUNDS, COLOURS

SHAPES = {
    "square": "a flat shape with four equal sides and four right angles",
    "triangle": "a flat shape with three straight sides and three corners",
    "pentagon": "a flat shape with five equal sides",
    "hexagon": "a flat shape with six equal sides",
    "star": "a five-pointed star shape",
    "cross": "a plus-shaped cross with four equal arms",
    "heart": "a heart shape with two rounded lobes and a point at the bottom",
    "diamond": "a narrow four-sided shape standing on one corner",
}
POSITIONS = {
    "left side": "the left part of the frame",
    "right side": "the right part of the frame",
    "top": "the upper part of the frame",
    "bottom": "the lower part of the frame",
    "centre": "the middle of the frame",
}
SIZES = {"small shape": "a shape covering a small part of the frame",
         "large shape": "a shape covering a large part of the frame"}
MOTIONS = {  # every motion of t2l.data.synth.motions -> its description and the position or size it ends in
    "moving left": ("a shape sliding sideways towards the left edge of the frame", "left side"),
    "moving right": ("a shape sliding sideways towards the right edge of the frame", "right side"),
    "moving up": ("a shape sliding towards the top edge of the frame", "top"),
    "moving down": ("a shape sliding towards the bottom edge of the frame", "bottom"),
    "rotating clockwise": ("a shape turning about its centre in the direction of a clock's hands", None),
    "rotating counterclockwise": ("a shape turning about its centre against the direction of a clock's hands", None),
    "growing": ("a shape getting bigger from frame to frame", "large shape"),
    "shrinking": ("a shape getting smaller from frame to frame", "small shape"),
}


def split_label(label: str) -> tuple[str, str] | None:
    """``"star moving left"`` -> ``("star", "moving left")``; None for a label that is no world label."""
    for motion in MOTIONS:
        if label.endswith(" " + motion) and label[: -len(motion) - 1].strip():
            return label[: -len(motion) - 1].strip(), motion
    return None


def label_entities(shape: str, motion: str) -> list[tuple[str, str, str]]:
    """(unit, kind, description) of one world label."""
    description, place = MOTIONS[motion]
    found = [(shape, "object", SHAPES.get(shape, f"a flat {shape} shape")), (motion, "motion", description)]
    if place in POSITIONS:
        found.append((place, "scene", POSITIONS[place]))
    elif place in SIZES:
        found.append((place, "object", SIZES[place]))
    return found


def world_entities() -> list[tuple[str, str, str]]:
    """(unit, kind, description) of what every clip of the world may show."""
    return ([(unit, "scene", text) for unit, text in POSITIONS.items()]
            + [(unit, "object", text) for unit, text in SIZES.items()]
            + [(f"{colour} shape", "object", f"a shape coloured {colour}") for colour in COLOURS]
            + [(f"{name} background", "scene", f"a plain {name} textured background") for name in BACKGROUNDS]
            + [("distractor shapes", "object", "small faint shapes that stay still in the background")])
