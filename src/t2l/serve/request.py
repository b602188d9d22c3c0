"""A request's rows checked against the serving limits before anything is decoded or encoded."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from t2l.errors import UserError
from t2l.frames.clip_input import MB
from t2l.serve.settings import ServeSettings


@dataclass(frozen=True)
class ClipRequest:
    name: str  # how answers and errors refer to the clip
    classes: tuple[str, ...]  # stripped, de-duplicated, in the client's order
    video: bytes | None  # the clip's bytes, or
    path: str | None  # a file under the media root


def _given(row: dict, column: str):
    value = row.get(column)
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _classes(value, where: str, s: ServeSettings) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__len__"):
        raise UserError(f"{where}: `classes` must be a list of class names")
    if len(value) > s.max_classes:
        raise UserError(f"{where}: {len(value)} classes, over the limit of {s.max_classes}")
    names = []
    for c in value:
        if not isinstance(c, str):
            raise UserError(f"{where}: every class name must be a string")
        if len(c) > s.max_class_chars:
            raise UserError(f"{where}: a class name of {len(c)} characters, over the limit of {s.max_class_chars}")
        names.append(c.strip())
    names = tuple(dict.fromkeys(n for n in names if n))
    if not names:
        raise UserError(f"{where}: no candidate classes")
    return names


def _row(i: int, row: dict, s: ServeSettings) -> ClipRequest:
    video, path, name = _given(row, "video"), _given(row, "path"), _given(row, "name")
    if name is not None and (not isinstance(name, str) or len(name) > s.max_name_chars):
        raise UserError(f"row {i}: `name` must be a string of at most {s.max_name_chars} characters")
    if (video is None) == (path is None):
        raise UserError(f"row {i}: give the clip as exactly one of `video` (its bytes) or `path`")
    if video is not None and not isinstance(video, bytes):
        raise UserError(f"row {i}: `video` must be the clip's bytes (base64 in JSON)")
    if video is not None and len(video) > s.max_clip_mb * MB:
        raise UserError(f"row {i}: {len(video) / MB:.1f} MB of video, over the limit of {s.max_clip_mb:g} MB")
    if path is not None and not isinstance(path, str):
        raise UserError(f"row {i}: `path` must be a string")
    label = name or (f"row {i} ({_short(path, s.max_name_chars)})" if path is not None else f"row {i}")
    return ClipRequest(label, _classes(row.get("classes"), label, s), video, path)


def parse(frame: pd.DataFrame, s: ServeSettings) -> list[ClipRequest]:
    if len(frame) > s.max_rows:
        raise UserError(f"request: {len(frame)} clips, over the limit of {s.max_rows}")
    clips = [_row(i, row, s) for i, row in enumerate(frame.to_dict("records"))]
    total = sum(len(c.video) for c in clips if c.video is not None)
    if total > s.max_request_mb * MB:
        raise UserError(f"request: {total / MB:.1f} MB of video, over the limit of {s.max_request_mb:g} MB")
    return clips
