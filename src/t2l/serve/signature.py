"""The pyfunc's schema: one row per video, each with its own candidate classes (zero-shot).

Input columns: ``video`` (string, a path the server can read) and ``classes`` (list of strings,
free-text class names). Output columns: ``video``, ``classes`` (the top-k names, best first) and
``probabilities`` (softmax over all candidate classes, same order). Param ``top_k``.

REST (``mlflow models serve``)::

    POST /invocations
    {"dataframe_records": [{"video": "/data/clip.mp4", "classes": ["juggling", "knitting"]}],
     "params": {"top_k": 1}}
    -> {"predictions": [{"video": "/data/clip.mp4", "classes": ["juggling"], "probabilities": [0.91]}]}
"""

from __future__ import annotations

from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import Array


def signature(top_k: int) -> ModelSignature:
    return ModelSignature(
        inputs=Schema([ColSpec(DataType.string, "video"), ColSpec(Array(DataType.string), "classes")]),
        outputs=Schema([ColSpec(DataType.string, "video"), ColSpec(Array(DataType.string), "classes"),
                        ColSpec(Array(DataType.double), "probabilities")]),
        params=ParamSchema([ParamSpec("top_k", DataType.long, top_k)]),
    )
