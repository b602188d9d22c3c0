"""The pyfunc's schema: one row per clip, each with its own candidate classes (zero-shot).

Input columns: ``video`` (binary: the clip's bytes, base64 in JSON) or, where the operator set a
media root, ``path`` (string, a file under it); ``name`` (optional string: how errors refer to the
clip); ``classes`` (list of strings, free-text class names). Output columns, one row per input row
in order: ``classes`` (the top-k names, best first), ``probabilities`` (softmax over all
candidate classes, same order) and ``text`` (where each of those classes' text came from, see
t2l.serve.class_text). Params ``top_k`` and ``text`` (``descriptions`` or ``names``).

REST (``mlflow models serve``; docs/serving.md has the limits)::

    POST /invocations
    {"dataframe_records": [{"video": "<base64 of clip.mp4>", "name": "clip.mp4",
                            "classes": ["juggling", "knitting"]}],
     "params": {"top_k": 1}}
    -> {"predictions": [{"classes": ["juggling"], "probabilities": [0.91], "text": ["template descriptions"]}]}
"""

from __future__ import annotations

from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import Array


def signature(top_k: int) -> ModelSignature:
    return ModelSignature(
        inputs=Schema([ColSpec(DataType.binary, "video", required=False),
                       ColSpec(DataType.string, "path", required=False),
                       ColSpec(DataType.string, "name", required=False),
                       ColSpec(Array(DataType.string), "classes")]),
        outputs=Schema([ColSpec(Array(DataType.string), "classes"), ColSpec(Array(DataType.double), "probabilities"),
                        ColSpec(Array(DataType.string), "text")]),
        params=ParamSchema([ParamSpec("top_k", DataType.long, top_k), ParamSpec("text", DataType.string, "descriptions")]),
    )
