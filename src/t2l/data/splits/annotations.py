"""Reading official annotation files: every error names the file and the line it is about."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

from t2l.errors import UserError

_WS = re.compile(r"\s*")


def resolve(root: Path, path: str | Path) -> Path:
    """An adapter option's path: absolute as given, else relative to the dataset root (normalised)."""
    return Path(os.path.normpath(Path(root) / path))


def fail(path: Path, line: int, message: str) -> UserError:
    return UserError(f"{path}: line {line}: {message}")


def read_text(path: Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such annotation file")
    try:
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark (Excel's CSVs) is not text
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def text_fields(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank lines of a whitespace-separated list (LF or CRLF) as ``(line, fields)``."""
    return [(i, line.split()) for i, line in enumerate(read_text(path).splitlines(), 1) if line.strip()]


def expect_fields(path: Path, line: int, fields: list[str], n: int, form: str) -> list[str]:
    if len(fields) != n:
        raise fail(path, line, f"expected {n} column(s) ({form}), got {len(fields)}")
    return fields


def integer(path: Path, line: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise fail(path, line, f"{what} must be an integer, got {value!r}") from None


def csv_rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV with a header as ``(line, {column: value})``; every row has the header's width."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise fail(path, 1, f"header needs column(s) {', '.join(missing)}; got {','.join(header) or 'nothing'}")
    rows = []
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise fail(path, reader.line_num, f"expected {len(header)} columns ({','.join(header)}), got {len(fields)}")
        rows.append((reader.line_num, {h: f.strip() for h, f in zip(header, fields)}))
    return rows


def json_items(path: Path) -> list[tuple[int, str | None, object]]:
    """Top-level entries of a JSON list or object as ``(line, key, value)``; key is None in a list.

    The line is where the entry starts, so errors about one entry can name it.
    """
    text = read_text(path)
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        raise fail(path, e.lineno, f"invalid JSON: {e.msg}") from None
    i = _WS.match(text).end()
    close = {"[": "]", "{": "}"}.get(text[i:i + 1])
    if close is None:
        raise fail(path, 1, "expected a JSON list or object")
    decoder, items, line, seen = json.JSONDecoder(), [], 1, 0
    i += 1
    while True:  # the text is valid JSON: only entries, ':' and ',' are left to step over
        i = _WS.match(text, i).end()
        if text[i] == close:
            return items
        line, seen = line + text.count("\n", seen, i), i
        key = None
        if close == "}":
            key, i = decoder.raw_decode(text, i)
            i = _WS.match(text, _WS.match(text, i).end() + 1).end()
        value, i = decoder.raw_decode(text, i)
        items.append((line, key, value))
        i = _WS.match(text, i).end()
        if text[i] == ",":
            i += 1
