"""One-off predictions through the pyfunc, from the registry or straight from a training run."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import mlflow
import pandas as pd

from t2l.errors import UserError
from t2l.serve.package import save
from t2l.track.store import configure
from t2l.model.trained import is_model_dir


def parse_classes(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise UserError("--classes: give candidate class names separated by commas, e.g. 'juggling,knitting'")
    return names


@contextmanager
def open_model(model: str, config: dict) -> Iterator[mlflow.pyfunc.PyFuncModel]:
    """The pyfunc at ``model``: a models:/ or runs:/ URI, an MLflow model directory, or a training run
    directory (packaged on the fly with ``config``, as ``t2l register`` would)."""
    path = Path(model)
    if is_model_dir(path):
        with tempfile.TemporaryDirectory() as tmp:
            yield mlflow.pyfunc.load_model(str(save(path, config, Path(tmp) / "model")))
        return
    configure()
    try:
        loaded = mlflow.pyfunc.load_model(model)
    except mlflow.exceptions.MlflowException as e:
        raise UserError(f"{model}: cannot load the model ({e.message})") from None
    yield loaded


def predict(model: mlflow.pyfunc.PyFuncModel, videos: list[Path], classes: list[str], top_k: int | None) -> list[dict]:
    frame = pd.DataFrame({"video": [str(v) for v in videos], "classes": [classes] * len(videos)})
    try:
        result = model.predict(frame, params={"top_k": top_k} if top_k else None)
    except mlflow.exceptions.MlflowException as e:  # bad input: the message says which video and why
        raise UserError(e.message) from None
    return [{**r, "probabilities": [float(p) for p in r["probabilities"]]} for r in result.to_dict("records")]
