"""The stand-in CLIP's pretraining: image-text contrastive training of the embedded default's tiny CLIP.

A stand-in for CLIP's web-scale pretraining: single frames of the world, rendered here, with
captions that name what, what colour, where and how big (never a motion). The result is a
state-dict file that later stages load exactly as they would load real CLIP weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from t2l.data.synth.captions import ATTRIBUTES, POSITIONS, SIZES, caption, full_caption
from t2l.data.synth.images import render_images
from t2l.data.synth.render import BACKGROUNDS, COLOURS
from t2l.data.synth.shapes import SHAPES
from t2l.frames.transforms import normalize
from t2l.fsio import file_digest, save_torch, write_json
from t2l.model.backbone import create_clip, tokenizer
from t2l.model.losses import multi_positive_kl_loss
from t2l.params import Count, Fraction, NonNegative, NonNegativeFloat, Positive
from t2l.train import checkpoint
from t2l.train.optim import adamw, warmup_cosine
from t2l.train.pretrain_image import attribute_codes, train_image_tower

VALUES = {"shape": tuple(SHAPES), "colour": tuple(COLOURS), "background": tuple(BACKGROUNDS),
          "position": POSITIONS, "size": SIZES}
TRAIN_STREAM, HELD_OUT_STREAM = 0, 1


@dataclass(frozen=True)
class PretrainConfig:
    backbone: str = "t2l-tiny"
    seed: NonNegative = 0
    steps: Count = 3000
    batch_size: Count = 256
    lr: Positive = 1e-3
    weight_decay: NonNegativeFloat = 0.1
    warmup: Fraction = 0.05
    images: Count = 100_000  # rendered training images, each captioned afresh at every draw
    held_out: Count = 2000  # images of another random stream for the zero-shot check
    group_size: Count = 8  # images per group of a batch that differ in one attribute only
    free: dict[str, NonNegativeFloat] = field(default_factory=lambda: {"shape": 0.3, "position": 0.3, "size": 0.2,
                                                            "colour": 0.1, "background": 0.1})
    checkpoint_every: Count = 250
    workers: Count = 2  # rendering processes
    image_steps: NonNegative = 0  # first phase: the image tower names each attribute (labels); 0 skips it
    lock_image: bool = False  # contrastive phase trains the text tower only (LiT), keeping the first phase's image tower


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> normalised (B, 3, H, W) with a small random shift (1/32 of the side);
    no flip and no colour change, since captions name sides and colours."""
    x = images.permute(0, 3, 1, 2).float() / 255.0
    h, w = x.shape[-2:]
    pad = max(1, h // 32)
    x = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    return normalize(x[:, :, dy:dy + h, dx:dx + w])


@torch.no_grad()
def _image_embeddings(model, images: np.ndarray, batch: int = 500) -> torch.Tensor:
    x = [normalize(torch.from_numpy(images[i:i + batch]).permute(0, 3, 1, 2).float() / 255.0)
         for i in range(0, len(images), batch)]
    return F.normalize(torch.cat([model.encode_image(b) for b in x]), dim=-1)


@torch.no_grad()
def _text_embeddings(model, tok, texts: list[str], batch: int = 2000) -> torch.Tensor:
    return torch.cat([F.normalize(model.encode_text(tok(texts[i:i + batch])), dim=-1) for i in range(0, len(texts), batch)])


@torch.no_grad()
def zero_shot_check(model, tok, images: np.ndarray, attributes: pd.DataFrame) -> dict[str, float]:
    """Held-out accuracy of naming each attribute: for attribute a, the image's full caption with
    a replaced by each of its values competes; and of picking the whole caption among every
    combination of values."""
    model.eval()
    img = _image_embeddings(model, images)
    truth = attributes[list(ATTRIBUTES)].reset_index(drop=True)
    rows = truth.to_dict("records")
    out = {}
    for a in ATTRIBUTES:
        texts = [full_caption({**row, a: v}) for row in rows for v in VALUES[a]]
        emb = _text_embeddings(model, tok, texts).view(len(rows), len(VALUES[a]), -1)
        picked = torch.einsum("nvd,nd->nv", emb, img).argmax(1).tolist()
        out[f"{a}_accuracy"] = float(np.mean([VALUES[a][p] == r[a] for p, r in zip(picked, rows)]))
    combos = list(product(*(VALUES[a] for a in ATTRIBUTES)))
    emb = _text_embeddings(model, tok, [full_caption(dict(zip(ATTRIBUTES, c))) for c in combos])
    picked = [combos[j] for j in (img @ emb.T).argmax(1).tolist()]
    out["caption_accuracy"] = float(np.mean([p == tuple(r) for p, r in zip(picked, truth.itertuples(index=False))]))
    return {**out, "held_out_images": len(images)}


class NearMisses:
    """Batches of groups of images that differ in one attribute only (the group's free attribute,
    drawn with ``weights``), the rest equal: what tells them apart is that attribute, as
    near-duplicates in a web-scale batch make real CLIP tell fine differences apart."""

    def __init__(self, attributes: pd.DataFrame, weights: dict[str, float]):
        self.free = list(weights)
        self.p = torch.tensor([weights[a] for a in self.free], dtype=torch.float64)
        self.index = {a: attributes.groupby([b for b in ATTRIBUTES if b != a]).indices for a in self.free}
        self.keys = {a: list(attributes[[b for b in ATTRIBUTES if b != a]].itertuples(index=False, name=None))
                     for a in self.free}
        self.n = len(attributes)

    def draw(self, batch_size: int, group_size: int, generator: torch.Generator) -> torch.Tensor:
        picks = []
        for _ in range(batch_size // group_size):
            free = self.free[int(torch.multinomial(self.p, 1, generator=generator))]
            anchor = int(torch.randint(0, self.n, (1,), generator=generator))
            members = torch.as_tensor(self.index[free][self.keys[free][anchor]])
            order = torch.randperm(len(members), generator=generator).repeat(group_size // len(members) + 1)
            picks.append(members[order[:group_size]])  # distinct images while the group has enough
        return torch.cat(picks)


def describes(images: list[dict[str, str]], named: list[frozenset[str]]) -> torch.Tensor:
    """(images, texts) bool: caption j describes image i when every attribute it names is image i's,
    so a short caption is a positive of every image it fits, not a false negative."""
    keys = {a: pd.factorize(pd.Series([r[a] for r in images]))[0] for a in ATTRIBUTES}
    ok = torch.ones(len(images), len(named), dtype=torch.bool)
    for a, codes in keys.items():
        codes = torch.from_numpy(codes)
        says = torch.tensor([a in n for n in named])
        ok &= (codes[:, None] == codes[None, :]) | ~says[None, :]
    return ok


def check(backbone: str, weights: Path, world, held_out: int, workers: int = 2) -> dict:
    """The zero-shot check of the weights file as shipped (half precision), with its sha256."""
    model = create_clip(backbone, str(weights))
    images, attributes = render_images(world, held_out, HELD_OUT_STREAM, workers)
    return {**zero_shot_check(model, tokenizer(backbone), images, attributes),
            "logit_scale": float(model.logit_scale.detach().exp()), "weights_sha256": file_digest(weights)}


def run(cfg: PretrainConfig, world, weights: Path, metrics: Path, state_path: Path) -> dict:
    """Train, resuming from ``state_path`` when it holds a run of the same config and world;
    write the CLIP state dict (half precision, a few MB) to ``weights`` and its zero-shot check
    to ``metrics``."""
    torch.manual_seed(cfg.seed)
    model = create_clip(cfg.backbone)
    if model.visual.image_size[0] != world.size:
        raise ValueError(f"pretrain.backbone {cfg.backbone} reads {model.visual.image_size[0]} px images; "
                         f"the world's frames are {world.size} px")
    images, attributes = render_images(world, cfg.images, TRAIN_STREAM, cfg.workers)
    images_t = torch.from_numpy(images)
    records = attributes.to_dict("records")
    tok = tokenizer(cfg.backbone)
    generator = torch.Generator().manual_seed(cfg.seed)
    identity = {**asdict(cfg), "world": asdict(world)}
    identity["world"].pop("workers", None)
    state = checkpoint.load(state_path)
    state = state if state is not None and state["config"] == identity else None
    if state is not None:
        model.load_state_dict(state["model"])
        generator.set_state(state["generator"])
        checkpoint.set_rng_state(state["rng"])
    elif cfg.image_steps:
        train_image_tower(model, images_t, attribute_codes(attributes, VALUES), VALUES, cfg.image_steps, cfg.batch_size,
                          cfg.lr, cfg.weight_decay, cfg.warmup, augment, generator)
        checkpoint.save(state_path, config=identity, step=0, model=model.state_dict(), generator=generator.get_state(),
                        rng=checkpoint.rng_state())  # the first phase is done; a resumed run starts the second
    if cfg.lock_image:
        model.visual.requires_grad_(False)
    optimizer = adamw(model, cfg.lr, cfg.weight_decay)
    scheduler = warmup_cosine(optimizer, cfg.steps, cfg.warmup)
    start = 0
    if state is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start = state["step"]
    groups = NearMisses(attributes, cfg.free)
    model.train()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc="pretrain")
    for step in bar:
        idx = groups.draw(cfg.batch_size, cfg.group_size, generator)
        rng = np.random.default_rng([cfg.seed, step])
        batch = [records[i] for i in idx.tolist()]
        texts, named = zip(*(caption(r, rng) for r in batch))
        img = F.normalize(model.encode_image(augment(images_t[idx], generator)), dim=-1)
        txt = F.normalize(model.encode_text(tok(list(texts))), dim=-1)
        loss = multi_positive_kl_loss(img, txt, describes(batch, named), model.logit_scale.exp())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, np.log(100))
        bar.set_postfix(loss=f"{loss.item():.3f}", scale=f"{model.logit_scale.exp().item():.1f}")
        if (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
            checkpoint.save(state_path, config=identity, step=step + 1, model=model.state_dict(),
                            optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                            generator=generator.get_state(), rng=checkpoint.rng_state())
    save_torch(weights, {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()})
    result = {**check(cfg.backbone, Path(weights), world, cfg.held_out, cfg.workers), "steps": cfg.steps,
              "image_steps": cfg.image_steps}
    write_json(metrics, result)
    Path(state_path).unlink(missing_ok=True)
    return result
