"""Addresses in the MLflow UI: an experiment's runs table and the page comparing chosen runs.

The UI is the tracking server's own (``MLFLOW_TRACKING_URI`` when it is http(s)), else the
``mlflow ui`` a user starts over the project's store, on its default address.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from t2l.track.store import URI_ENV

LOCAL_UI = "http://127.0.0.1:5000"  # `mlflow ui`'s default


def ui_base() -> str:
    uri = os.environ.get(URI_ENV, "")
    return uri.rstrip("/") if uri.startswith(("http://", "https://")) else LOCAL_UI


def runs_url(experiment_id: str, base: str | None = None) -> str:
    return f"{base or ui_base()}/#/experiments/{experiment_id}/runs"


def compare_url(run_ids: list[str], experiment_ids: list[str], base: str | None = None) -> str:
    """The UI page that lists ``run_ids`` side by side, one column per run and a row per metric."""
    runs, experiments = quote(json.dumps(list(run_ids))), quote(json.dumps(sorted(set(experiment_ids))))
    return f"{base or ui_base()}/#/compare-runs?runs={runs}&experiments={experiments}"


def lines(ui: dict) -> list[str]:
    """``t2l track``'s summary of where to look: the runs tables, then the comparison pages."""
    out = [f"runs of the pipeline (parent, training): {ui['pipeline']}"]
    out += [f"runs of {protocol}: {url}" for protocol, url in ui["runs"].items()]
    out += [f"compare {name}: {url}" for name, url in ui["compare"].items()]
    return out
