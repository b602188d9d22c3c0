"""Content-addressed cache of LLM answers: one small JSON file per (request, sample index).

Each answer is written atomically as soon as it arrives, so a re-run, or a run after a crash,
asks only for what is missing. Entries hold the request's fields and the answer, never the key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from t2l.fsio import write_json


class AnswerCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @staticmethod
    def key(**fields) -> dict:
        """The fields that decide an answer, with their sha256 under ``"sha256"``."""
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        return {**fields, "sha256": digest}

    def _path(self, key: dict) -> Path:
        return self.root / key["sha256"][:2] / f"{key['sha256']}.json"

    def get(self, key: dict) -> str | None:
        try:
            entry = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
        answer = entry.get("answer") if isinstance(entry, dict) else None
        return answer if isinstance(answer, str) else None

    def put(self, key: dict, answer: str) -> None:
        write_json(self._path(key), {"key": key, "answer": answer})
