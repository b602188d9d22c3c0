"""The official releases' sizes, which ``t2l validate`` compares each dataset's splits with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    classes: int
    videos: int | None = None  # video files the release ships (None: YouTube-based, videos go missing over time)
    ext: str = ""  # of those video files


# by adapter (data/splits/adapters.py)
RELEASES: dict[str, Release] = {
    "ucf101": Release(101, 13_320, ".avi"),
    "hmdb51": Release(51, 6_766, ".avi"),
    "kinetics400": Release(400),
    "kinetics600": Release(600),
    "ssv2": Release(174, 220_847, ".webm"),
}
