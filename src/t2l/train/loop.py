"""The training loop: AdamW + warmup/cosine, AMP, clipping, accumulation, DDP, atomic resume.

Model selection uses only the run's held-out *source* validation split (``run.val``); target
test sets are never looked at during training.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from t2l.data.protocols.reader import Run
from t2l.distributed import Dist, from_main, gather_objects
from t2l.errors import UserError
from t2l.frames.clip_spec import ClipSpec
from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.decoders import DECODERS
from t2l.frames.transforms import EvalTransform, TrainTransform
from t2l.model.factory import class_prompts
from t2l.model.text import ClassPrompts
from t2l.params import Count, Fraction, NonNegative, NonNegativeFloat, OneOf, ParamsError, Positive, Range
from t2l.scoring import ScoreSettings, embedded, score, top1, views
from t2l.train import checkpoint
from t2l.train.inputs import input_digests
from t2l.train.mixing import Mixing
from t2l.train.optim import adamw, warmup_cosine


@dataclass(frozen=True)
class TrainConfig:
    epochs: Count = 50
    batch_size: Count = 70  # per optimiser step, over all ranks and accumulation micro-steps
    lr: Positive = 5e-5
    token_lr_scale: NonNegativeFloat = 1.0  # learning-rate multiplier of the temporal tokens (1: the reference)
    weight_decay: NonNegativeFloat = 0.2
    betas: tuple[Fraction, Fraction] = (0.9, 0.98)
    eps: Positive = 1e-8
    warmup: Fraction = 0.1  # fraction of steps with linear warmup, then cosine
    grad_clip: NonNegativeFloat = 1.0  # max global grad norm; 0 disables
    accumulation: Count = 1  # micro-steps per optimiser step
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 (or fp16 + grad scaler) on GPU, fp32 on CPU; or fp32/bf16/fp16
    flip: bool = True  # off where direction is the label (SSv2, the embedded world)
    augment: bool = True  # random frame offsets, multi-scale crops, colour jitter, grayscale (and flip); off: clips as evaluation sees them
    mixup: NonNegativeFloat = 0.0  # Beta(a, a) of mixup's share (TC-CLIP's reference: 0.8); 0: off
    cutmix: NonNegativeFloat = 0.0  # Beta(a, a) of CutMix's share (TC-CLIP's reference: 1.0); 0: off
    mixup_switch_prob: Annotated[float, Range(at_least=0, at_most=1)] = 0.5  # both on: share of CutMix batches
    stem_cache_mb: NonNegative = 2048  # augment off, frozen stem: keep every clip's patch embedding in memory if all fit (0: never)
    decoder: Annotated[str, OneOf(DECODERS)] = "archive"  # archive (extracted frames), decord, pyav
    workers: NonNegative = 2
    eval_batch_size: Count = 64
    val_every: Count = 1  # epochs between validations (model selection)
    seed: NonNegative = 0
    descriptions: bool = True  # encode classes by their LLM descriptions when available

    def __post_init__(self):
        if self.flip and not self.augment:
            raise ParamsError("train.flip: flipping is an augmentation; with train.augment false set flip false too")
        if self.batch_size % self.accumulation:
            raise ParamsError(f"train.batch_size: {self.batch_size} does not divide into {self.accumulation} "
                              "accumulation micro-steps")


MEASURED = ("clips_per_s",)  # history columns that are measured time, not results


def train_transform(cfg: TrainConfig, clip: ClipSpec):
    """The reference's augmentation, or (``augment: false``) the evaluation view of every clip."""
    if cfg.augment:
        return TrainTransform(clip.crop, clip.resize_ratio, flip=cfg.flip)
    return EvalTransform(clip.crop, clip.resize_ratio)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    if device.type != "cuda" or precision == "fp32":
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def _checksum(state: dict[str, torch.Tensor]) -> str:
    """Digest of the weights' bytes: equal on every rank when DDP kept them in sync."""
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].float().numpy().tobytes())
    return h.hexdigest()[:16]


class Trainer:
    """Trains one run of a protocol; ``fit`` returns the summary written beside the weights."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, clip: ClipSpec, run: Run, frames_root: Path,
                 descriptions: dict, tokenizer, state_path: Path, d: Dist = Dist()):
        self.model, self.cfg, self.clip, self.run, self.d = model.to(d.device), cfg, clip, run, d
        self.state_path, self.frames_root = Path(state_path), Path(frames_root)
        if cfg.batch_size % (d.world * cfg.accumulation):
            raise ParamsError(f"train.batch_size: {cfg.batch_size} does not divide into {d.world} ranks x "
                              f"{cfg.accumulation} accumulation micro-steps")
        self.micro_batch = cfg.batch_size // (d.world * cfg.accumulation)
        self.prompts = class_prompts(model.cfg, run.train.class_names(), tokenizer,
                                     descriptions.get(run.train.dataset) if cfg.descriptions else None)
        self.val_prompts = (class_prompts(model.cfg, run.val.class_names(), tokenizer,
                                          descriptions.get(run.val.dataset) if cfg.descriptions else None)
                            if run.val else None)
        rows = run.train.rows()
        self.data = VideoClipDataset(rows, FrameSource(cfg.decoder, self.frames_root / run.train.dataset),
                                     model.cfg.frames, train_transform(cfg, clip),
                                     train=cfg.augment, seed=cfg.seed)
        self.inputs = self.val_inputs = None  # the clips' frozen patch embeddings, once computed (fit)
        self.embedded = False
        self.sampler = torch.utils.data.DistributedSampler(self.data, d.world, d.rank, shuffle=True, seed=cfg.seed,
                                                           drop_last=True)
        self.steps_per_epoch = len(self.sampler) // (self.micro_batch * cfg.accumulation)
        if self.steps_per_epoch == 0:
            raise UserError(f"{run.train.csv}: {len(rows)} clips are fewer than one batch of {cfg.batch_size} "
                            "(train.batch_size)")
        self.mixing = Mixing(cfg.mixup, cfg.cutmix, cfg.mixup_switch_prob)
        self.optimizer = adamw(model, cfg.lr, cfg.weight_decay, cfg.betas, cfg.eps, cfg.token_lr_scale,
                               model.cfg.decay_policy)
        self.scheduler = warmup_cosine(self.optimizer, cfg.epochs * self.steps_per_epoch, cfg.warmup)
        self.dtype = autocast_dtype(cfg.precision, d.device)
        self.scaler = torch.amp.GradScaler(enabled=self.dtype == torch.float16)
        self.net = DistributedDataParallel(model, device_ids=[d.device] if d.device.type == "cuda" else None) \
            if d.enabled else model
        prompts = [self.prompts] + ([self.val_prompts] if self.val_prompts else [])
        self.identity = {"train": asdict(cfg), "clip": asdict(clip), "model": asdict(model.cfg), "run": f"{run.protocol}/{run.name}",
                         "inputs": input_digests(model.cfg.pretrained, run, self.frames_root, prompts)}

    # -- checkpoints ------------------------------------------------------------------------
    def _save(self, epoch: int, best: dict, history: list[dict]) -> None:
        if self.d.main:
            checkpoint.save(self.state_path, identity=self.identity, epoch=epoch, best=best, history=history,
                            model=self.model.trainable_state_dict(), optimizer=self.optimizer.state_dict(),
                            scheduler=self.scheduler.state_dict(), scaler=self.scaler.state_dict(),
                            rng=checkpoint.rng_state())

    def _resume(self) -> tuple[int, dict, list[dict]]:
        """Rank 0's checkpoint, if written for this run, on every rank: only rank 0 writes it, and
        the other ranks' nodes may not share its disk."""
        state = checkpoint.load(self.state_path) if self.d.main else None
        if state is not None and state["identity"] != self.identity:
            changed = sorted(k for k in self.identity if state["identity"].get(k) != self.identity[k])
            print(f"{self.state_path}: written for other {', '.join(changed)}; training from the start")
            state = None
        state = from_main(self.d, state)
        if state is None:
            return 0, {"epoch": -1, "val_top1": -1.0, "weights": None}, []
        self.model.load_state_dict(state["model"], strict=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        checkpoint.set_rng_state(state["rng"])
        return state["epoch"] + 1, state["best"], state["history"]

    # -- one epoch ----------------------------------------------------------------------------
    def _micro_batches(self, epoch: int):
        self.sampler.set_epoch(epoch)
        self.data.set_epoch(epoch)
        cached = self.inputs is not None
        loader = torch.utils.data.DataLoader(self.inputs if cached else self.data, batch_size=self.micro_batch,
                                             sampler=self.sampler, num_workers=0 if cached else self.cfg.workers,
                                             drop_last=True,
                                             pin_memory=self.d.device.type == "cuda")
        return iter(loader)

    def _step_loss(self, video, labels, prompts: ClassPrompts) -> tuple[torch.Tensor, dict]:
        with torch.autocast(self.d.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            features, classes = self.net(video, prompts)
        loss, parts = self.model.objective(features, classes, labels)
        return loss, {k: v.item() for k, v in parts.items()}

    def _epoch(self, epoch: int, bar) -> dict:
        self.model.train()
        batches = self._micro_batches(epoch)
        sums, seen, start = {"loss": 0.0}, 0, time.perf_counter()
        for step in range(self.steps_per_epoch):
            prompts = self.prompts.sample(np.random.default_rng([self.cfg.seed, epoch, step])).to(self.d.device)
            for micro in range(self.cfg.accumulation):
                video, labels, _ = next(batches)
                video, labels = video.to(self.d.device, non_blocking=True), labels.to(self.d.device)
                if self.mixing.enabled:  # labels become soft targets (B, C)
                    rng = np.random.default_rng([self.cfg.seed, epoch, step, micro, self.d.rank])
                    video, labels = self.mixing(video, labels, prompts.num_classes, rng)
                sync = micro == self.cfg.accumulation - 1 or not self.d.enabled
                with nullcontext() if sync else self.net.no_sync():
                    loss, parts = self._step_loss(video, labels, prompts)
                    self.scaler.scale(loss / self.cfg.accumulation).backward()
                for k, v in {"loss": loss.item(), **parts}.items():
                    sums[k] = sums.get(k, 0.0) + v
                seen += len(video) * self.d.world
            if self.cfg.grad_clip:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], self.cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            self.scheduler.step()
            rate = seen / (time.perf_counter() - start)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{self.scheduler.get_last_lr()[0]:.2e}", clips_s=f"{rate:.1f}")
        micro_steps = self.steps_per_epoch * self.cfg.accumulation
        return {"epoch": epoch, **{k: v / micro_steps for k, v in sums.items()},
                "lr": self.scheduler.get_last_lr()[0], "clips_per_s": seen / (time.perf_counter() - start)}

    def validate(self) -> float:
        rows = self.run.val.rows()
        settings = ScoreSettings(self.clip.crop, self.clip.resize_ratio, self.cfg.eval_batch_size, self.cfg.workers)
        return top1(score(self.model, rows, FrameSource(self.cfg.decoder, self.frames_root / self.run.val.dataset),
                          self.val_prompts, settings, self.d, clips=self.val_inputs))

    def _embed(self) -> None:
        """The frozen patch embedding of each val clip, and without augmentation or mixing of each
        train clip, computed once (``stem_cache_mb``)."""
        if self.embedded:
            return
        cache = dict(batch_size=self.cfg.eval_batch_size, workers=self.cfg.workers, limit_bytes=self.cfg.stem_cache_mb * 2**20,
                     device=self.d.device)
        if not self.cfg.augment and not self.mixing.enabled:  # mixing blends pixels
            self.inputs = embedded(self.model, self.data, **cache)
        if self.run.val is not None:
            val = next(views(self.run.val.rows(), FrameSource(self.cfg.decoder, self.frames_root / self.run.val.dataset),
                             ScoreSettings(self.clip.crop, self.clip.resize_ratio), self.model.cfg.frames))
            self.val_inputs = embedded(self.model, val, **cache)
        self.embedded = True

    # -- the whole run ------------------------------------------------------------------------
    def fit(self) -> tuple[dict, dict[str, torch.Tensor], pd.DataFrame]:
        """Train (resuming if a checkpoint of the same config exists); return the summary, the
        selected weights (best source-val epoch, or the last epoch without a val split) and the
        per-epoch history."""
        start, best, history = self._resume()
        bar = tqdm(total=self.cfg.epochs * self.steps_per_epoch, initial=start * self.steps_per_epoch,
                   desc=f"train {self.run.protocol}/{self.run.name}", disable=not self.d.main)
        for epoch in range(start, self.cfg.epochs):
            self._embed()
            row = self._epoch(epoch, bar)
            last = epoch == self.cfg.epochs - 1
            if self.run.val is not None and ((epoch + 1) % self.cfg.val_every == 0 or last):
                row["val_top1"] = self.validate()
                if row["val_top1"] > best["val_top1"]:
                    best = {"epoch": epoch, "val_top1": row["val_top1"], "weights": self.model.trainable_state_dict()}
            elif self.run.val is None and last:
                best = {"epoch": epoch, "val_top1": None, "weights": self.model.trainable_state_dict()}
            history.append(row)
            self._save(epoch, best, history)
        bar.close()
        summary = {"run": f"{self.run.protocol}/{self.run.name}", "selected_epoch": best["epoch"],
                   "selected_by": "source val top-1" if self.run.val is not None else "last epoch",
                   "val_top1": best["val_top1"], "epochs": self.cfg.epochs, "steps_per_epoch": self.steps_per_epoch,
                   "train_clips": len(self.data), "world_size": self.d.world,
                   "weights_checksum_per_rank": gather_objects(self.d, _checksum(self.model.trainable_state_dict()))}
        return summary, best["weights"], pd.DataFrame(history)
