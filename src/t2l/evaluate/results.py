"""The results of the active profile: the metrics files of the evaluations params.yaml configures.

Reports, figures and tracking read them here and nowhere else, so a file another profile left in
the metrics directory (a paper profile's project still holding the embedded default's committed
results, say) is never drawn, logged or tabled as this profile's.
"""

from __future__ import annotations

from pathlib import Path

from t2l.fsio import read_json
from t2l.jobs import evaluations


def metrics_file(metrics_dir: Path, evaluation: str) -> Path:
    return Path(metrics_dir) / f"{evaluation}.json"


def read_results(params: dict, metrics_dir: Path) -> dict[str, dict]:
    """``{evaluation: its metrics}`` for each configured evaluation whose metrics file exists, in
    params order."""
    found = {name: metrics_file(metrics_dir, name) for name in evaluations(params)}
    return {name: read_json(path) for name, path in found.items() if path.is_file()}
