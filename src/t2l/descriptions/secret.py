"""Finding a secret in text however it was escaped on the way: JSON or Python ``\\uXXXX`` and
``\\xHH`` escapes (any hex case, of any or all of its characters), percent-encoding, a backslash
before punctuation (``\\/``), or plain."""

from __future__ import annotations

import functools
import re


def _hex(value: int, digits: int) -> str:
    """A regex for ``value`` as exactly ``digits`` hex digits of either case."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{digits}x}")


def _character(c: str) -> str:
    """A regex for one character in any of the escaped forms, or plain."""
    units = c.encode("utf-16-be")
    utf16 = "".join(r"\\u" + _hex(int.from_bytes(units[i:i + 2], "big"), 4) for i in range(0, len(units), 2))
    forms = [re.escape(c), utf16, r"\\U" + _hex(ord(c), 8), "".join("%" + _hex(b, 2) for b in c.encode())]
    if ord(c) < 0x100:
        forms.append(r"\\x" + _hex(ord(c), 2))
    if not c.isalnum():
        forms.append(r"\\" + re.escape(c))
    return "(?:" + "|".join(forms) + ")"


@functools.cache
def pattern(secret: str) -> re.Pattern:
    """What matches ``secret`` in every form above, each of its characters escaped or not."""
    return re.compile("".join(_character(c) for c in secret))


def scrub(text: str, secret: str | None) -> str:
    """``text`` with every form of ``secret`` replaced by ``***``."""
    return pattern(secret).sub("***", text) if secret else text
