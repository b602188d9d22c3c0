"""The ``describe`` section of params.yaml. It names the API key's environment variable, never the key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from t2l.params import ParamsError

BACKENDS = ("template", "file", "openai")
PAPER_PROMPT = "describe {category} as an action performed by humans"


@dataclass(frozen=True)
class OpenAIConfig:
    base_url: str = "https://api.openai.com/v1"  # any OpenAI-compatible server, e.g. vLLM or Ollama
    model: str = "gpt-3.5-turbo"
    api_key_env: str = "OPENAI_API_KEY"  # NAME of the variable holding the key; unset: no Authorization
    prompt: str = PAPER_PROMPT  # {category} becomes the readable class name
    system_prompt: str = ""  # empty: no system message
    temperature: float = 0.7
    max_tokens: int = 100
    concurrency: int = 8  # requests in flight at once
    timeout_s: float = 60.0  # per request
    max_retries: int = 6  # per class, after a failed attempt (429, 5xx, timeout, bad answer)
    backoff_s: float = 1.0  # full-jitter exponential backoff: uniform(0, min(max, base * 2**k))
    backoff_max_s: float = 60.0  # also caps the wait a Retry-After header asks for
    max_answer_bytes: int = 1 << 20  # an answer's body once decoded; a larger one fails its class, nothing kept
    max_description_chars: int = 1000  # a longer description is cut after its last whole word that fits

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.api_key_env):
            # the value is not echoed: it may be a key pasted in the wrong place
            raise ParamsError("describe.openai.api_key_env must be the NAME of an environment variable "
                              "(e.g. OPENAI_API_KEY), never the key itself")
        if not re.match(r"https?://", self.base_url):
            raise ParamsError("describe.openai.base_url must start with http:// or https://")
        if "{category}" not in self.prompt:
            raise ParamsError("describe.openai.prompt must contain {category}")
        if (self.concurrency < 1 or self.max_retries < 0 or self.timeout_s <= 0 or self.max_tokens < 1
                or self.max_answer_bytes < 1 or self.max_description_chars < 1):
            raise ParamsError("describe.openai: concurrency, timeout_s, max_tokens, max_answer_bytes and "
                              "max_description_chars must be positive, max_retries not negative")


@dataclass(frozen=True)
class FileConfig:
    path: str = ""  # JSON {class: [descriptions]} or the reference repo's CSV


@dataclass(frozen=True)
class DescribeConfig:
    backend: str = "template"
    n: int = 4  # descriptions per class (template: at most one per template; file: all in the file)
    cache_dir: str = ".cache/t2l/descriptions"  # answers of the openai backend; outside DVC, survives re-runs
    openai: OpenAIConfig = field(default_factory=OpenAIConfig)
    file: FileConfig = field(default_factory=FileConfig)

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ParamsError(f"describe.backend: {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.n < 1:
            raise ParamsError("describe.n must be at least 1")
        if self.backend == "file" and not self.file.path:
            raise ParamsError("describe.file.path is required by the file backend")
