"""Cleaning of generated descriptions, and the checks that reject an answer."""

from __future__ import annotations

import re

_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "`": "`"}
_LABEL = re.compile(r"^\**\s*(description|answer|response)\s*\**\s*[:\-]\s*\**\s*", re.IGNORECASE)
_REFUSAL = re.compile(r"\b(?:i'?m sorry|i am sorry|as an ai|as a language model|i can ?not|i can't|i'?m unable|"
                      r"i am unable|i apologi[sz]e|i won't)\b", re.IGNORECASE)


def clean(text: str) -> str:
    """Single spaces, no surrounding quotes, no leading ``Description:``-style label."""
    previous = None
    while text != previous:
        previous = text
        text = _LABEL.sub("", " ".join(text.split()))
        if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
            text = text[1:-1]
    return text


def shorten(text: str, limit: int) -> str:
    """``text`` cleaned, and if longer than ``limit`` characters cut after its last whole word that fits."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
    return cut.rstrip()


def problem(answer) -> str | None:
    """Why ``answer`` (a completion's content) is no usable description, or None if it is."""
    if not isinstance(answer, str):
        return f"non-text answer ({type(answer).__name__})"
    text = clean(answer)
    if not text:
        return "empty answer"
    if _REFUSAL.search(text[:150].replace("\u2019", "'")):
        return f"refusal-like answer: {text[:80]!r}"
    return None
