"""The pyfunc: rebuilds a trained model (any family) from its state dict, model.json and CLIP weights; scores uploaded clips.

Each request is checked against the serving limits (t2l.serve.settings) before any work; clips are
decoded in worker processes (t2l.serve.decode_pool); text embeddings of a class list are kept
across requests (bounded LRU). Every failure reaches the client as a short message without a
stack trace: bad input as 400, busy decoders as 503, anything else as 500 with the details in the
server's log only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from functools import lru_cache

import mlflow
import pandas as pd
import torch
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE, TEMPORARILY_UNAVAILABLE

from t2l.errors import UserError
from t2l.frames.transforms import EvalTransform
from t2l.fsio import read_json
from t2l.model.config import ModelConfig
from t2l.model.factory import load_trained, tokenizer_for
from t2l.model.text import ClassPrompts
from t2l.params import parse as parse_config
from t2l.serve.decode_pool import DecodePool, PoolBusy
from t2l.serve.media import media_bytes
from t2l.serve.request import ClipRequest, parse
from t2l.serve.settings import ServeSettings

# context.artifacts keys (see t2l.serve.package)
WEIGHTS, CONFIG, CLIP = "weights", "config", "clip"

_log = logging.getLogger(__name__)


class T2LClassifier(mlflow.pyfunc.PythonModel):
    """Zero-shot video classification over per-row candidate class names (see t2l.serve.signature)."""

    def load_context(self, context) -> None:
        conf = context.model_config
        self.settings = ServeSettings.from_env()
        self.media_root = self.settings.root()
        self.limits = self.settings.clip_limits()
        cfg = replace(parse_config(ModelConfig, read_json(context.artifacts[CONFIG]), "model"), pretrained=context.artifacts[CLIP])
        weights = torch.load(context.artifacts[WEIGHTS], map_location="cpu", weights_only=True)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = load_trained(cfg, weights).to(self.device).eval()
        self.tokenizer = tokenizer_for(cfg)
        self.transform = EvalTransform(conf["crop"], conf["resize_ratio"])
        self.top_k = conf["top_k"]
        self.decoders = DecodePool(self.settings.decode_workers, cfg.frames, conf["decoder"], self.limits,
                                   self.settings.decode_memory_mb)
        self.class_embeddings = lru_cache(maxsize=self.settings.text_cache)(self._embed)
        self._compute = threading.Lock()  # one forward at a time bounds memory; torch uses every core anyway

    @torch.no_grad()
    def _embed(self, names: tuple[str, ...]) -> torch.Tensor:
        with self._compute:
            return self.model.encode_classes(ClassPrompts.from_names(list(names), self.tokenizer).to(self.device))

    @torch.no_grad()
    def _probabilities(self, frames, classes) -> torch.Tensor:
        with self._compute:
            clip = self.transform(frames).unsqueeze(0).to(self.device)
            return self.model.logits(self.model.encode_video(clip), classes).softmax(-1)[0].cpu()

    def _clip_bytes(self, clip: ClipRequest) -> bytes:
        if clip.video is not None:
            return clip.video
        return media_bytes(clip.path, self.media_root, self.limits.max_bytes, clip.name)

    def _top_k(self, params: dict) -> int:
        top_k = params.get("top_k")
        top_k = self.top_k if top_k is None else int(top_k)
        if top_k < 1:
            raise UserError(f"params.top_k: {top_k}; must be at least 1")
        return top_k

    def _predict(self, model_input: pd.DataFrame, params: dict) -> pd.DataFrame:
        top_k, rows = self._top_k(params), []
        for clip in parse(model_input, self.settings):
            frames = self.decoders.decode(self._clip_bytes(clip), clip.name, self.settings.decode_timeout_s)
            probs = self._probabilities(frames, self.class_embeddings(clip.classes))
            top = probs.topk(min(top_k, len(clip.classes)))
            rows.append({"classes": [clip.classes[i] for i in top.indices.tolist()],
                         "probabilities": [float(p) for p in top.values]})
        return pd.DataFrame(rows, columns=["classes", "probabilities"])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        try:
            return self._predict(model_input, params or {})
        except UserError as e:
            raise MlflowException(str(e), error_code=INVALID_PARAMETER_VALUE) from None
        except PoolBusy as e:
            raise MlflowException(f"{e}; retry later", error_code=TEMPORARILY_UNAVAILABLE) from None
        except Exception:  # noqa: BLE001  (the client gets no stack trace; the log keeps it)
            _log.exception("scoring failed")
            raise MlflowException("internal error while scoring; the server's log has the details",
                                  error_code=INTERNAL_ERROR) from None
