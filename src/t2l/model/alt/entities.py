"""Entity embeddings S (K, E): the corpus through CLIP's frozen text encoder, computed once and cached.

The cache is one ``torch.save`` file (``save_entity_embeddings``), read back with
``weights_only=True``: ``{"texts": [K texts], "entities": [K {unit, kind, description}],
"embeddings": (K, E) float32 unit rows, "backbone": name, "pretrained": tag or path}``. The text of
an entity is ``"<unit>: <description>"``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from t2l.descriptions.corpus import Entity, read_corpus, unique
from t2l.errors import UserError
from t2l.fsio import save_torch
from t2l.model.backbone import create_clip, tokenizer
from t2l.model.text import encode_text


@dataclass
class EntityEmbeddings:
    texts: list[str]
    embeddings: torch.Tensor  # (K, E) unit rows, float32
    backbone: str
    pretrained: str | None = None
    entities: list[dict] = field(default_factory=list)  # the corpus entries the texts came from


def entity_text(entity: Entity) -> str:
    return f"{entity.unit}: {entity.description}"


def embed_texts(clip, tokenize, texts: list[str], batch_size: int = 256) -> torch.Tensor:
    """Unit text embeddings (K, E) float32 of ``texts`` by ``clip``'s text encoder, without gradients."""
    if not texts:
        raise UserError("an entity corpus needs at least one entity")
    device = next(clip.parameters()).device
    with torch.no_grad():
        parts = [encode_text(clip, tokenize(texts[i:i + batch_size]).to(device)).float()
                 for i in range(0, len(texts), batch_size)]
    return F.normalize(torch.cat(parts), dim=-1)


def save_entity_embeddings(path: str | Path, cached: EntityEmbeddings) -> None:
    save_torch(path, {"texts": list(cached.texts), "entities": list(cached.entities), "backbone": cached.backbone,
                      "pretrained": cached.pretrained, "embeddings": cached.embeddings.detach().float().cpu()})


def load_entity_embeddings(path: str | Path) -> EntityEmbeddings:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such entity embeddings file (model.alt.entities)")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        cached = EntityEmbeddings(data["texts"], data["embeddings"], data["backbone"], data.get("pretrained"),
                                  data.get("entities", []))
    except Exception as e:  # noqa: BLE001 - an unreadable file is the user's input error
        raise UserError(f"{path}: not an entity embeddings file ({type(e).__name__}: {e})") from None
    if cached.embeddings.ndim != 2 or len(cached.texts) != len(cached.embeddings):
        raise UserError(f"{path}: expected one embedding row per text, got {tuple(cached.embeddings.shape)} "
                        f"for {len(cached.texts)} texts")
    return cached


def embed_corpora(corpora: list[str | Path], backbone: str, pretrained: str | None = None,
                  cache_dir: str | None = None, quick_gelu: bool | None = None) -> EntityEmbeddings:
    """S of the union of corpus files (each unit once, first file first) by ``backbone``'s frozen text encoder."""
    entities = unique([e for path in corpora for e in read_corpus(path)])
    clip = create_clip(backbone, pretrained, cache_dir, quick_gelu).eval()
    texts = [entity_text(e) for e in entities]
    return EntityEmbeddings(texts, embed_texts(clip, tokenizer(backbone), texts), backbone, pretrained,
                            [asdict(e) for e in entities])
