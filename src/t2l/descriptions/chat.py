"""The ``openai`` backend: several answers per class from any OpenAI-compatible ``/chat/completions``.

Bounded concurrency (asyncio + httpx), a per-request timeout, retries with backoff on 429, 5xx,
timeouts, connection errors and unusable answers, and every good answer cached as it arrives.
An answer's body is read up to ``max_answer_bytes`` once decoded (a larger one fails its class)
and each description is cut to ``max_description_chars``, so no answer fills memory, the cache or
the descriptions file. The API key comes only from the environment variable named in params,
travels only in the Authorization header, and is scrubbed, in every escaped form a server may
echo it in, from every message and log line this module writes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass

import httpx
from tqdm import tqdm

from t2l.descriptions.answer_body import ACCEPT_ENCODING, BodyRefused, read_capped
from t2l.descriptions.cache import AnswerCache
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.names import readable
from t2l.descriptions.retry import RetryableError, delay, retry_after, retryable_status
from t2l.descriptions.secret import pattern, scrub
from t2l.descriptions.text import problem, shorten
from t2l.errors import UserError

log = logging.getLogger(__name__)


class ClassFailed(Exception):
    """A class got no usable answer: retries ran out, or the server refused the request (4xx)."""


@dataclass
class Stats:
    requests: int = 0
    cached: int = 0  # answers read from the cache instead of asked for
    retries: int = 0


class ChatDescriber:
    def __init__(self, cfg: DescribeConfig):
        self.n, self.o = cfg.n, cfg.openai
        self.key = os.environ.get(self.o.api_key_env) or None  # local servers (vLLM, Ollama) need none
        if self.key and (self.key != self.key.strip() or not self.key.isprintable() or " " in self.key):
            raise UserError(f"${self.o.api_key_env}: the API key holds a space or a control character (a trailing "
                            r"\r or \n from a copied file?); remove it (the key is not shown)")
        self.url = self.o.base_url.rstrip("/") + "/chat/completions"
        self.cache = AnswerCache(cfg.cache_dir)
        self.stats = Stats()

    def scrub(self, text: str) -> str:
        """``text`` without the key, plain or escaped (JSON, repr, percent-encoding)."""
        return scrub(text, self.key)

    def messages(self, name: str) -> list[dict]:
        system = [{"role": "system", "content": self.o.system_prompt}] if self.o.system_prompt else []
        return system + [{"role": "user", "content": self.o.prompt.replace("{category}", readable(name))}]

    def cache_key(self, name: str, messages: list[dict], index: int) -> dict:
        return AnswerCache.key(backend="openai", base_url=self.o.base_url.rstrip("/"), model=self.o.model,
                               prompt=messages, class_name=name, index=index, temperature=self.o.temperature)

    async def _exchange(self, client: httpx.AsyncClient, body: dict) -> tuple[httpx.Response, bytes]:
        """The server's answer and its decoded body, read up to the cap (not read for a status worth retrying)."""
        async with client.stream("POST", self.url, json=body) as r:
            if retryable_status(r.status_code):
                return r, b""
            return r, await read_capped(r, self.o.max_answer_bytes, "describe.openai.max_answer_bytes")

    async def _post(self, client: httpx.AsyncClient, sem: asyncio.Semaphore, messages: list[dict], n: int) -> list:
        """One request for ``n`` choices; their contents as sent (not necessarily strings)."""
        body = {"model": self.o.model, "messages": messages, "n": n,
                "temperature": self.o.temperature, "max_tokens": self.o.max_tokens}
        async with sem:
            self.stats.requests += 1
            try:
                r, data = await asyncio.wait_for(self._exchange(client, body), self.o.timeout_s)
            except (httpx.TimeoutException, asyncio.TimeoutError):
                raise RetryableError(f"no answer within {self.o.timeout_s:g} s") from None
            except httpx.TransportError as e:
                raise RetryableError(f"connection error: {type(e).__name__}: {e}") from None
            except BodyRefused as e:
                raise ClassFailed(self.scrub(str(e))) from None
        if retryable_status(r.status_code):
            raise RetryableError(f"HTTP {r.status_code}", retry_after(r.headers.get("retry-after")))
        text = data.decode("utf-8", "replace")
        if r.is_error:
            raise ClassFailed(f"HTTP {r.status_code}: {self.scrub(text)[:300]}")  # scrubbed whole: no cut key
        try:
            contents = [c["message"].get("content") for c in json.loads(data)["choices"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RetryableError("malformed answer (not chat-completions JSON)") from None
        if self.key and (pattern(self.key).search(text) or any(self.key in str(c) for c in contents)):
            # e.g. a proxy echoing the request's headers: never cached, never shown
            raise ClassFailed("the server's answer contains the API key (an echo of the Authorization header?); "
                              "nothing of it was kept")
        return contents

    async def _describe(self, client: httpx.AsyncClient, sem: asyncio.Semaphore, name: str) -> list[str]:
        messages = self.messages(name)
        keys = [self.cache_key(name, messages, i) for i in range(self.n)]
        answers = {i: a for i, k in enumerate(keys) if (a := self.cache.get(k)) is not None}
        self.stats.cached += len(answers)
        failures = 0
        while missing := [i for i in range(self.n) if i not in answers]:
            try:
                contents = await self._post(client, sem, messages, len(missing))
                good = [c for c in contents if problem(c) is None]
                if not good:
                    raise RetryableError(problem(contents[0]) if contents else "no choices in the answer")
            except RetryableError as e:
                failures += 1
                reason = self.scrub(str(e))
                if failures > self.o.max_retries:
                    raise ClassFailed(f"{reason} (gave up after {failures} attempts)") from None
                wait = delay(failures, self.o.backoff_s, self.o.backoff_max_s, e.retry_after)
                self.stats.retries += 1
                log.info("%s: %s; retry %d of %d in %.2f s", name, reason, failures, self.o.max_retries, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0  # progress; a server that ignores n is asked again for the rest
            for i, text in zip(missing, good):
                answers[i] = shorten(text, self.o.max_description_chars)
                self.cache.put(keys[i], answers[i])
        return [shorten(answers[i], self.o.max_description_chars) for i in range(self.n)]

    async def _run(self, names: list[str]) -> dict[str, list[str] | ClassFailed]:
        sem = asyncio.Semaphore(self.o.concurrency)
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **({"Authorization": f"Bearer {self.key}"} if self.key else {})}
        limits = httpx.Limits(max_connections=self.o.concurrency)
        async with httpx.AsyncClient(headers=headers, timeout=self.o.timeout_s, limits=limits) as client:
            with tqdm(total=len(names), desc="describe", unit="class") as bar:
                async def one(name: str) -> list[str] | ClassFailed:
                    try:
                        return await self._describe(client, sem, name)
                    except ClassFailed as e:
                        return e
                    finally:
                        bar.update()

                results = await asyncio.gather(*(one(n) for n in names))
        return dict(zip(names, results))

    def describe(self, names: list[str]) -> dict[str, list[str]]:
        """``n`` descriptions per class; a UserError lists every class that got none, with its last error."""
        results = asyncio.run(self._run(names))
        failed = {n: r for n, r in results.items() if isinstance(r, ClassFailed)}
        if failed:
            lines = "\n".join(f"  {n}: {e}" for n, e in failed.items())
            raise UserError(f"could not describe {len(failed)} of {len(names)} classes with {self.url} "
                            f"(answers so far are cached under {self.cache.root}; a re-run asks only for the rest):\n{lines}")
        return results
