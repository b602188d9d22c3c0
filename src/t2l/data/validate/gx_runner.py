"""Run a list of Great Expectations expectations on a DataFrame; report failures by CSV line."""

from __future__ import annotations

import os
from functools import lru_cache

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

MAX_ROWS = 10  # offending rows shown per failed expectation


@lru_cache(maxsize=1)
def _batch_definition():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("t2l").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole")


def run(name: str, frame: pd.DataFrame, expectations: list, show: list[str]) -> list[dict]:
    """Validate ``frame`` (index = data row order) and return one record per failed expectation.

    Each record names the expectation, its arguments, the ``why`` from its meta, how many rows
    failed and the first offending rows as ``{"line": csv_line, <show columns>...}``.
    """
    frame = frame.reset_index(drop=True)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    failures = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k in ("column", "column_A", "column_B", "column_set")}
        index = r.result.get("unexpected_index_list") or []
        cols = [c for c in show if c in frame.columns]
        failures.append({
            "expectation": config.type,
            "arguments": kwargs,
            "why": (config.meta or {}).get("why", ""),
            "unexpected_count": r.result.get("unexpected_count", len(index)),
            "observed": _plain(r.result.get("observed_value")),
            "rows": [{"line": int(i) + 2, **{c: _plain(frame.at[i, c]) for c in cols}} for i in index[:MAX_ROWS]],
        })
    return failures


def _plain(v):
    """A JSON-able value: numpy scalars as Python ones, NaN as None."""
    if isinstance(v, (list, dict)):
        return v
    return None if pd.isna(v) else v.item() if hasattr(v, "item") else v


def check(suite: str, file, frame: pd.DataFrame, expectations: list, show: list[str]) -> dict:
    """One report record: ``file`` checked by ``suite``, with its failures."""
    failures = run(suite, frame, expectations, show)
    return {"file": str(file), "suite": suite, "rows": len(frame), "success": not failures, "failures": failures}
