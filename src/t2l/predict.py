"""One-off predictions through the pyfunc, from the registry or straight from a training run.

Each video file is sent as the server would receive it (its bytes), so ``t2l predict`` and
``mlflow models serve`` give the same answer. Reading from the registry creates and writes nothing:
the store must exist (t2l.track.store.existing_uri) and the model is copied out of it first, so
MLflow's bookkeeping file (``registered_model_meta``) lands in the copy, not in the store.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from t2l.errors import UserError
from t2l.frames.clip_input import read_file
from t2l.jobs import clip_spec, model_fields
from t2l.layout import DESCRIPTIONS, SPLITS
from t2l.model.config import VARIANTS, variant
from t2l.model.trained import is_model_dir, save_model
from t2l.params import load, parse, section
from t2l.serve.evaluation_text import evaluation_text
from t2l.serve.package import save, serving_config
from t2l.serve.settings import ServeSettings
from t2l.track.store import existing_uri


def parse_classes(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise UserError("--classes: give candidate class names separated by commas, e.g. 'juggling,knitting'")
    return names


def _register_config(params: Path):
    from t2l.track.registry import RegisterConfig

    return parse(RegisterConfig, section("register", params), "register")


def champion_uri(params: Path) -> str:
    """models:/<register.name>@champion for params.yaml's backbone."""
    name = _register_config(params).model_name(section("model", params)["backbone"], load(params))
    return f"models:/{name}@champion"


@contextmanager
def open_model(model: str | None, params: Path) -> Iterator[mlflow.pyfunc.PyFuncModel]:
    """The pyfunc at ``model``: a variant name (that variant untrained on params.yaml's backbone and
    weights, e.g. ``vanilla`` for CLIP zero-shot), a training run directory (packaged on the fly
    with params.yaml's evaluation settings, as ``t2l register`` would), an MLflow model directory,
    or a models:/ or runs:/ URI read from the store of ``params``' project (default: the registered
    champion)."""
    model = model or champion_uri(params)
    path = Path(model)
    with tempfile.TemporaryDirectory() as tmp:
        if model in VARIANTS and not path.exists():  # e.g. vanilla: CLIP zero-shot, nothing trained
            path = Path(tmp) / "untrained"
            save_model(path, variant(model, **model_fields(load(params))), {})
        if is_model_dir(path):
            config = serving_config(clip_spec(load(params)), _register_config(params).top_k)
            root = params.resolve().parent  # the project's class lists and descriptions, as evaluation read them
            text = evaluation_text(load(params), root / SPLITS, root / DESCRIPTIONS)
            yield mlflow.pyfunc.load_model(str(save(path, config, text, Path(tmp) / "model")))
            return
        if path.is_dir():
            yield mlflow.pyfunc.load_model(str(path))
            return
        try:
            uri = existing_uri(params.resolve().parent)
        except UserError as e:
            raise UserError(f"{e}; or give --model a training run directory") from None
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            loaded = mlflow.pyfunc.load_model(model, dst_path=tmp)
        except MlflowException as e:
            raise UserError(f"{model}: cannot load the model ({e.message})") from None
        yield loaded


def predict(model: mlflow.pyfunc.PyFuncModel, videos: list[Path], classes: list[str], top_k: int | None) -> list[dict]:
    max_bytes = ServeSettings.from_env().clip_limits().max_bytes
    answers = []
    for video in videos:
        frame = pd.DataFrame({"video": [read_file(video, max_bytes)], "name": [str(video)], "classes": [classes]})
        try:
            (row,) = model.predict(frame, params={"top_k": top_k} if top_k else None).to_dict("records")
        except MlflowException as e:  # bad input: the message names the video and says why
            raise UserError(e.message) from None
        answers.append({"video": str(video), "classes": list(row["classes"]),
                        "probabilities": [float(p) for p in row["probabilities"]], "text": list(row.get("text", []))})
    return answers
