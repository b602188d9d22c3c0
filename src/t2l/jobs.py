"""What the pipeline trains and scores, from params.yaml: the ``jobs`` (a model variant trained on
every run of one protocol) and the ``evaluations`` (``evaluate@<name>`` -> the protocol whose
models it scores: its own, or one whose runs trained on the same split files). dvc.yaml expands
both into stages; the CLI, the Prefect flow and tracking read them here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from t2l.frames.clip_spec import ClipSpec
from t2l.frames.extract import ExtractConfig
from t2l.params import ParamsError, parse

PROTOCOLS = ("zero_shot", "base2novel", "few_shot", "fully_supervised")
ROBUSTNESS = "robustness"  # an evaluation, not a protocol: zero-shot models under perturbations


@dataclass(frozen=True)
class Job:
    protocol: str
    model: str  # variant name (t2l, ttl, tfd, adapters, vifi, ...)
    runs: tuple[str, ...] = ()  # run names of the protocol; empty = every run
    train: dict = field(default_factory=dict)  # overrides of the train section for this job

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ParamsError(f"protocol {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")


def jobs(params: dict) -> dict[str, Job]:
    return {name: parse(Job, value, f"jobs.{name}") for name, value in (params.get("jobs") or {}).items()}


def evaluations(params: dict) -> dict[str, str]:
    """``{evaluation: protocol whose models it scores}``, checked."""
    found = params.get("evaluations") or {}
    if not isinstance(found, dict):
        raise ParamsError("evaluations: expected a mapping of evaluation name -> protocol")
    for name, protocol in found.items():
        if protocol not in PROTOCOLS:
            raise ParamsError(f"evaluations.{name}: {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if name not in (*PROTOCOLS, ROBUSTNESS):
            raise ParamsError(f"evaluations.{name}: unknown evaluation; known: {', '.join((*PROTOCOLS, ROBUSTNESS))}")
    return dict(found)


def trained_on(params: dict, evaluation: str) -> str:
    """The protocol whose models ``evaluate@<evaluation>`` scores."""
    table = evaluations(params)
    if evaluation not in table:
        raise ParamsError(f"evaluations: no {evaluation!r}; configured: {', '.join(table)}")
    return table[evaluation]


def clip_spec(params: dict) -> ClipSpec:
    return parse(ClipSpec, params.get("clip") or {}, "clip")


def extract_config(params: dict) -> ExtractConfig:
    """The ``extract`` section, with the short side every clip shares (``clip.short_side``)."""
    values = dict(params.get("extract") or {})
    if "short_side" in values:
        raise ParamsError("extract.short_side: the short side is set once, in clip.short_side")
    return parse(ExtractConfig, {**values, "short_side": clip_spec(params).short_side}, "extract")


def model_fields(params: dict) -> dict:
    """The ``model`` section's shared fields, with the frame count every model is built for."""
    fields = dict(params.get("model") or {})
    if "frames" in fields:
        raise ParamsError("model.frames: frames per clip are set once, in clip.frames")
    return {**fields, "frames": clip_spec(params).frames}
