"""Flat, stable MLflow names: params.yaml as dotted params, metrics JSON as slash-joined metrics.

Metric names are ``<protocol>/<group>/<key>[/<key>...]``, the path through the metrics JSON
below the variant: ``zero_shot/synthetic_target/top1_mean``, ``base2novel/hmdb51/hm``,
``few_shot/ucf101/k2/top1_mean``, ``robustness/ucf101/blur/s2/relative_drop``. The variant is the
run's ``model`` tag, so the same name means the same quantity for every model.
"""

from __future__ import annotations

import json
import math
import re
from typing import Iterator

from t2l.params import ParamsError

MAX_PARAM_VALUE = 6000  # MLflow's limit on a param value
SIGNIFICANT = 4  # digits a metric keeps: 0.09375, 2.823, 0.0008405 (the UI shows what was logged)
_UNSAFE = re.compile(r"[^\w\-. :/]")  # MLflow names: alphanumerics, _ - . space : /
_DETAIL = re.compile(r"/(splits|seeds)/")


def for_profile(template: str, params: dict, where: str, **fields: str) -> str:
    """An experiment or registered-model name from its template (``t2l-{profile}-{backbone}``):
    each profile's runs and models apart from the others'."""
    try:
        return template.format(profile=params.get("profile") or "", **fields)
    except (KeyError, IndexError, ValueError) as e:
        known = ", ".join("{" + k + "}" for k in ("profile", *fields))
        raise ParamsError(f"{where}: {template!r} is not a name template ({e}); it may use {known}") from None


def safe(name: str) -> str:
    return _UNSAFE.sub("_", name).replace("..", "_").lstrip("/")


def flat_params(tree: dict, prefix: str = "") -> dict[str, str]:
    """``{"train": {"lr": 0.005}}`` -> ``{"train.lr": "0.005"}``; lists as JSON, long values cut."""
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_params(value, f"{name}."))
        else:
            text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
            out[safe(name)] = text if len(text) <= MAX_PARAM_VALUE else text[:MAX_PARAM_VALUE - 3] + "..."
    return out


def flat_metrics(tree: dict, prefix: str) -> dict[str, float]:
    """Every finite number of a nested dict, named ``prefix/key/key...`` (strings and None skipped)."""
    out = {}
    for key, value in tree.items():
        name = f"{prefix}/{key}"
        if isinstance(value, dict):
            out.update(flat_metrics(value, name))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[safe(name)] = float(f"{value:.{SIGNIFICANT}g}")
    return out


def split_details(values: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """An evaluation's metrics as (summary, details): the per-split and per-seed values are the
    details, which the comparison page would otherwise list before the summary's top-1."""
    detail = {k: v for k, v in values.items() if _DETAIL.search(k)}
    return {k: v for k, v in values.items() if k not in detail}, detail


def run_title(protocol: str, variant: str, group: str) -> str:
    """An evaluation run's name: what was evaluated, by which model, on which data."""
    return f"{protocol} · {variant} · {group}"


def metric_groups(protocol: str, metrics: dict) -> Iterator[tuple[str, str, dict[str, float]]]:
    """``(variant, group, metrics)`` per variant and group (dataset) of a ``metrics/<protocol>.json``."""
    for variant, groups in metrics.items():
        if variant == "notes" or not isinstance(groups, dict):
            continue
        for group, values in groups.items():
            if isinstance(values, dict):
                yield variant, group, flat_metrics(values, f"{protocol}/{group}")
