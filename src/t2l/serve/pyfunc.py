"""The pyfunc: rebuilds a trained model (any family) from its state dict, model.json and CLIP weights; scores uploaded clips.

Each request is checked against the serving limits (t2l.serve.settings) before any work; clips are
decoded in worker processes (t2l.serve.decode_pool); each class is encoded by the text evaluation
used for it (t2l.serve.class_text), and its embedding kept across requests, computed apart from
the video forward passes (t2l.serve.class_embeddings). Every failure reaches the client as a short
message without a stack trace: bad input as 400, busy decoders as 503, anything else as 500 with
the details in the server's log only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import mlflow
import pandas as pd
import torch
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE, TEMPORARILY_UNAVAILABLE

from t2l.compat.mlflow_json import refuse_deep_json
from t2l.errors import UserError
from t2l.frames.transforms import EvalTransform
from t2l.fsio import read_json
from t2l.model.backbone import read_state_dict
from t2l.model.config import ModelConfig
from t2l.model.factory import load_trained, tokenizer_for
from t2l.params import parse as parse_config
from t2l.serve.artifacts import CLASS_TEXT, CLIP, CONFIG, WEIGHTS
from t2l.serve.class_embeddings import ClassEmbeddings
from t2l.serve.class_text import TextSource
from t2l.serve.decode_pool import DecodePool, PoolBusy
from t2l.serve.media import media_bytes
from t2l.serve.request import ClipRequest, parse
from t2l.serve.settings import ServeSettings

_log = logging.getLogger(__name__)


class T2LClassifier(mlflow.pyfunc.PythonModel):
    """Zero-shot video classification over per-row candidate class names (see t2l.serve.signature)."""

    def load_context(self, context) -> None:
        refuse_deep_json()
        conf = context.model_config
        self.settings = ServeSettings.from_env()
        self.media_root = self.settings.root()
        self.limits = self.settings.clip_limits()
        cfg = replace(parse_config(ModelConfig, read_json(context.artifacts[CONFIG]), "model"), pretrained=context.artifacts[CLIP])
        weights = read_state_dict(context.artifacts[WEIGHTS])
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = load_trained(cfg, weights).to(self.device).eval()
        self.transform = EvalTransform(conf["crop"], conf["resize_ratio"])
        self.top_k = conf["top_k"]
        self.decoders = DecodePool(self.settings.decode_workers, cfg.frames, self.limits, self.settings.decode_memory_mb)
        text = context.artifacts.get(CLASS_TEXT)  # absent from models packaged before it existed
        self.text = TextSource(read_json(text) if text else None, self.settings.text_cache)
        self.class_embeddings = ClassEmbeddings(self.model, tokenizer_for(cfg), self.device, self.settings.text_cache,
                                                self.settings.max_new_classes)
        self._video = threading.Lock()  # one video forward at a time bounds memory; torch uses every core anyway

    @torch.no_grad()
    def _probabilities(self, frames, classes) -> torch.Tensor:
        with self._video:
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
        top_k, mode, rows = self._top_k(params), params.get("text") or "descriptions", []
        clips = parse(model_input, self.settings)
        texts = self.text.texts({c.classes for c in clips}, mode, self.settings.max_new_classes)
        self.class_embeddings.check([[t.prompts for t in found] for found in texts.values()])  # before any decoding
        for clip in clips:
            frames = self.decoders.decode(self._clip_bytes(clip), clip.name, self.settings.decode_timeout_s)
            found = texts[clip.classes]
            probs = self._probabilities(frames, self.class_embeddings([t.prompts for t in found]))
            top = probs.topk(min(top_k, len(clip.classes))).indices.tolist()
            rows.append({"classes": [clip.classes[i] for i in top], "probabilities": [float(probs[i]) for i in top],
                         "text": [found[i].source for i in top]})
        return pd.DataFrame(rows, columns=["classes", "probabilities", "text"])

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
