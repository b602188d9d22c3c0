"""The ``pretrain`` stage: image-text contrastive training of the embedded default's tiny CLIP.

A stand-in for CLIP's web-scale pretraining: the world's single frames with appearance-only
captions teach shapes, colours and backgrounds, never motion. The result is a state-dict file
that later stages load exactly as they would load real CLIP weights.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from t2l.frames.transforms import normalize
from t2l.fsio import file_digest, save_torch, write_json
from t2l.model.backbone import create_clip, tokenizer
from t2l.model.losses import symmetric_kl_loss
from t2l.train import checkpoint
from t2l.train.optim import adamw, warmup_cosine

ATTRIBUTES = ("shape", "colour", "background")
IMAGES, CAPTIONS = "images.zip", "captions.csv"  # written by `t2l synth`


@dataclass(frozen=True)
class PretrainConfig:
    backbone: str = "t2l-tiny"
    seed: int = 0
    steps: int = 600
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup: float = 0.05
    holdout: float = 0.1  # fraction of images kept out for the zero-shot check
    checkpoint_every: int = 100


def load_images(images_dir: Path, size: int) -> tuple[np.ndarray, pd.DataFrame]:
    """All images as uint8 (N, size, size, 3), resized to the backbone's input if needed."""
    captions = pd.read_csv(images_dir / CAPTIONS)

    def read(im: Image.Image) -> np.ndarray:
        im = im.convert("RGB")
        return np.asarray(im if im.size == (size, size) else im.resize((size, size), Image.Resampling.BICUBIC))

    with zipfile.ZipFile(images_dir / IMAGES) as zf:
        images = np.stack([read(Image.open(io.BytesIO(zf.read(n)))) for n in captions["image"]])
    return images, captions


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> normalised (B, 3, H, W) with a random shift (up to 1/16 of the side)
    and horizontal flip; no colour change, since captions name colours."""
    x = images.permute(0, 3, 1, 2).float() / 255.0
    b, _, h, w = x.shape
    pad = max(1, h // 16)
    x = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    x = x[:, :, dy:dy + h, dx:dx + w]
    flip = torch.rand(b, generator=generator) < 0.5
    x[flip] = x[flip].flip(-1)
    return normalize(x)


@torch.no_grad()
def zero_shot_check(model, tok, images: np.ndarray, captions: pd.DataFrame, batch: int = 512) -> dict[str, float]:
    """Accuracy of picking each held-out image's caption among every attribute combination,
    scored per attribute (shape, colour, background) and for the whole caption."""
    model.eval()
    values = {a: sorted(captions[a].unique()) for a in ATTRIBUTES}
    combos = pd.MultiIndex.from_product([values[a] for a in ATTRIBUTES], names=ATTRIBUTES).to_frame(index=False)
    texts = [f"a {c} {s} on a {b} background" for s, c, b in combos.itertuples(index=False)]
    text = F.normalize(model.encode_text(tok(texts)), dim=-1)
    picks = []
    for i in range(0, len(images), batch):
        x = normalize(torch.from_numpy(images[i:i + batch]).permute(0, 3, 1, 2).float() / 255.0)
        picks.append((F.normalize(model.encode_image(x), dim=-1) @ text.T).argmax(1))
    chosen = combos.iloc[torch.cat(picks).numpy()].reset_index(drop=True)
    truth = captions[list(ATTRIBUTES)].reset_index(drop=True)
    hits = chosen == truth
    return {**{f"{a}_accuracy": float(hits[a].mean()) for a in ATTRIBUTES}, "caption_accuracy": float(hits.all(1).mean()),
            "held_out_images": len(images)}


def run(cfg: PretrainConfig, images_dir: Path, weights: Path, metrics: Path, state_path: Path) -> dict:
    """Train, resuming from ``state_path`` when it holds a run of the same config and images;
    write the CLIP state dict to ``weights`` and the zero-shot check to ``metrics``."""
    torch.manual_seed(cfg.seed)
    model = create_clip(cfg.backbone)
    images, captions = load_images(Path(images_dir), model.visual.image_size[0])
    order = np.random.default_rng(cfg.seed).permutation(len(images))
    n_test = max(1, int(len(images) * cfg.holdout))
    test, train = order[:n_test], order[n_test:]
    tok = tokenizer(cfg.backbone)
    caption_ids = torch.from_numpy(pd.factorize(captions["caption"])[0])
    tokens = tok(captions["caption"].tolist())
    optimizer = adamw(model, cfg.lr, cfg.weight_decay)
    scheduler = warmup_cosine(optimizer, cfg.steps, cfg.warmup)
    generator = torch.Generator().manual_seed(cfg.seed)
    identity = {**asdict(cfg), "images": [file_digest(Path(images_dir) / f) for f in (IMAGES, CAPTIONS)]}
    start, state = 0, checkpoint.load(state_path)
    if state is not None and state["config"] == identity:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        checkpoint.set_rng_state(state["rng"])
        start = state["step"]
    images_t = torch.from_numpy(images)
    model.train()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc="pretrain")
    for step in bar:
        idx = torch.from_numpy(train)[torch.randint(0, len(train), (cfg.batch_size,), generator=generator)]
        img = F.normalize(model.encode_image(augment(images_t[idx], generator)), dim=-1)
        txt = F.normalize(model.encode_text(tokens[idx]), dim=-1)
        loss = symmetric_kl_loss(img, txt, caption_ids[idx], model.logit_scale.exp())
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
    result = {**zero_shot_check(model, tok, images[test], captions.iloc[test]), "steps": cfg.steps,
              "logit_scale": float(model.logit_scale.exp())}
    save_torch(weights, model.state_dict())
    write_json(metrics, result)
    Path(state_path).unlink(missing_ok=True)
    return result
