"""A word-level tokenizer over a fixed vocabulary, for the embedded default's stand-in CLIP.

Real CLIP reads 49,408 byte-pair tokens; the stand-in's world needs a few hundred words, and a
vocabulary of that size keeps the shipped weights a few MB. Ids: 0 padding, 1 start, 2 unknown
word, then the vocabulary in file order, and the end token last, as the highest id: open_clip's
text tower pools at the highest id (``text_pool_type='argmax'``).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

PAD, START, UNKNOWN = 0, 1, 2
WORD = re.compile(r"[a-z]+")


class WordTokenizer:
    def __init__(self, vocabulary: list[str], context_length: int):
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("the vocabulary lists a word twice")
        self.words = list(vocabulary)
        self.ids = {w: i + 3 for i, w in enumerate(self.words)}
        self.end = len(self.words) + 3
        self.vocab_size = self.end + 1
        self.context_length = context_length

    @classmethod
    def from_file(cls, path: Path, context_length: int) -> "WordTokenizer":
        return cls(Path(path).read_text().split(), context_length)

    def split(self, text: str) -> list[str]:
        return WORD.findall(text.lower())

    def unknown(self, text: str) -> list[str]:
        """The words of ``text`` outside the vocabulary."""
        return [w for w in self.split(text) if w not in self.ids]

    def encode(self, text: str) -> list[int]:
        return [self.ids.get(w, UNKNOWN) for w in self.split(text)]

    def __call__(self, texts: str | list[str], context_length: int | None = None) -> torch.Tensor:
        """(N, context) ids: start, words (cut to fit), end, padding."""
        texts = [texts] if isinstance(texts, str) else texts
        n = context_length or self.context_length
        out = torch.full((len(texts), n), PAD, dtype=torch.long)
        for i, text in enumerate(texts):
            ids = [START, *self.encode(text)[: n - 2], self.end]
            out[i, : len(ids)] = torch.tensor(ids)
        return out
