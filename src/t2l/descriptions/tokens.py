"""How long descriptions are in CLIP tokens, and which would be cut at CLIP's 77-token context."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _tokenizer():
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer()


def clip_tokens(text: str) -> int:
    """Tokens ``text`` takes in CLIP's text encoder, start and end tokens included."""
    return len(_tokenizer().encode(text)) + 2


def token_report(descriptions: dict[str, list[str]]) -> dict:
    """Token counts per description, and those longer than the context (CLIP truncates them)."""
    context = _tokenizer().context_length
    counts = {name: [clip_tokens(t) for t in texts] for name, texts in descriptions.items()}
    flat = [c for cs in counts.values() for c in cs]
    truncated = [{"class_name": name, "index": i, "tokens": c}
                 for name, cs in counts.items() for i, c in enumerate(cs) if c > context]
    return {"context_length": context, "descriptions": len(flat), "max_tokens": max(flat, default=0),
            "mean_tokens": round(sum(flat) / max(1, len(flat)), 1), "truncated": len(truncated),
            "truncated_descriptions": truncated}
