"""The pyfunc: rebuilds T2L from a state dict, model.json and CLIP weights; scores raw videos."""

from __future__ import annotations

from dataclasses import replace

import mlflow
import pandas as pd
import torch
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from t2l.errors import UserError
from t2l.frames.decoders import make_decoder
from t2l.frames.sampling import segment_indices
from t2l.frames.transforms import EvalTransform
from t2l.fsio import read_json
from t2l.model.config import ModelConfig
from t2l.model.factory import load_trained, tokenizer_for
from t2l.model.text import ClassPrompts
from t2l.params import parse

# context.artifacts keys (see t2l.serve.package)
WEIGHTS, CONFIG, CLIP = "weights", "config", "clip"


def _bad_input(message: str) -> MlflowException:
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)  # REST: 400, not 500


class T2LClassifier(mlflow.pyfunc.PythonModel):
    """Zero-shot video classification over per-row candidate class names (see t2l.serve.signature)."""

    def load_context(self, context) -> None:
        conf = context.model_config
        cfg = replace(parse(ModelConfig, read_json(context.artifacts[CONFIG]), "model"), pretrained=context.artifacts[CLIP])
        weights = torch.load(context.artifacts[WEIGHTS], map_location="cpu", weights_only=True)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = load_trained(cfg, weights).to(self.device).eval()
        self.tokenizer = tokenizer_for(cfg)
        self.transform = EvalTransform(conf["crop"], conf["resize_ratio"])
        self.decoder = make_decoder(conf["decoder"])
        self.top_k = conf["top_k"]

    @torch.no_grad()
    def _classes(self, names: tuple[str, ...]) -> torch.Tensor:
        return self.model.encode_classes(ClassPrompts.from_names(list(names), self.tokenizer).to(self.device))

    @torch.no_grad()
    def _probabilities(self, video: str, classes: torch.Tensor) -> torch.Tensor:
        t = self.model.cfg.frames
        try:
            frames = self.decoder.read(video, lambda n: segment_indices(n, t))
        except (UserError, RuntimeError, OSError) as e:  # decord raises RuntimeError (DECORDError)
            raise _bad_input(f"{video}: cannot read the video ({type(e).__name__}: {e})") from None
        clip = self.transform(frames).unsqueeze(0).to(self.device)
        return self.model.logits(self.model.encode_video(clip), classes).softmax(-1)[0].cpu()

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        top_k = int((params or {}).get("top_k") or self.top_k)
        cache: dict[tuple[str, ...], torch.Tensor] = {}
        rows = []
        for video, classes in zip(model_input["video"], model_input["classes"]):
            names = tuple(dict.fromkeys(str(c).strip() for c in classes if str(c).strip()))
            if not names:
                raise _bad_input(f"{video}: no candidate classes")
            if names not in cache:
                cache[names] = self._classes(names)
            probs = self._probabilities(str(video), cache[names])
            top = probs.topk(min(top_k, len(names)))
            rows.append({"video": video, "classes": [names[i] for i in top.indices.tolist()],
                         "probabilities": [float(p) for p in top.values]})
        return pd.DataFrame(rows, columns=["video", "classes", "probabilities"])
