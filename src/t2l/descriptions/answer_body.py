"""An HTTP answer's body read with a cap on its decoded size: a compressed body is inflated step
by step, never past the cap, so no answer (a compression bomb, a server that ignores
``max_tokens``) takes more memory than the cap allows."""

from __future__ import annotations

import zlib

import httpx

ACCEPT_ENCODING = "gzip, deflate"  # what ``read_capped`` inflates; sent as the request's Accept-Encoding
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BodyRefused(Exception):
    """The body is larger than the cap once decoded, or in an encoding that was not asked for."""


async def read_capped(response: httpx.Response, cap: int, setting: str) -> bytes:
    """The decoded body of a streamed ``response``; BodyRefused naming ``setting`` once it passes ``cap`` bytes."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", *_WBITS):
        raise BodyRefused(f"the answer is {encoding}-encoded; only {ACCEPT_ENCODING} or none was asked for")
    inflate = zlib.decompressobj(_WBITS[encoding]) if encoding in _WBITS else None
    body = bytearray()
    async for raw in response.aiter_raw():
        try:
            body += inflate.decompress(raw, cap + 1 - len(body)) if inflate else raw
        except zlib.error as e:
            raise BodyRefused(f"the answer's {encoding} body is corrupt ({e})") from None
        if len(body) > cap:
            raise BodyRefused(f"the answer is larger than {setting} ({cap:,} bytes once decoded); "
                              "nothing of it was kept")
    return bytes(body)
