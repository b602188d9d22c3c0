"""Class embeddings kept across requests, and computed apart from the video forward passes.

Each class's embedding is kept under its prompts, the least recently used dropped past
``capacity`` classes, so a request whose classes are all known does no text work and never waits
for another's. New classes are encoded under a lock of their own, ``CHUNK`` classes at a time, so
requests bringing new classes take turns; one request may bring at most ``max_new`` of them. A
family whose class state spans the whole list (TC-CLIP with video-conditioned prompts) keeps it
per class list instead, each list counting as one entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import torch

from t2l.errors import UserError
from t2l.model.text import ClassPrompts

CHUNK = 64  # classes per text forward pass: bounds its memory, and how long another request waits
Prompts = tuple[str, ...]


class ClassEmbeddings:
    def __init__(self, model, tokenizer, device, capacity: int, max_new: int):
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.capacity, self.max_new = capacity, max_new
        self._kept: OrderedDict[Prompts | tuple[Prompts, ...], object] = OrderedDict()
        self._encoding = threading.Lock()  # one text forward pass at a time
        self._keeping = threading.Lock()  # the kept embeddings, read and changed by every request
        self.encoded = 0  # classes encoded since loading (a kept class costs nothing)
        self.per_class = isinstance(self._encode([("a video.",)], count=False), torch.Tensor)

    @torch.no_grad()
    def _encode(self, classes: list[Prompts], count: bool = True):
        prompts = ClassPrompts.build([list(p) for p in classes], self.tokenizer).to(self.device)
        with self._encoding:
            self.encoded += len(classes) if count else 0
            return self.model.encode_classes(prompts)

    def new(self, classes: list[Prompts]) -> list[Prompts]:
        """The classes of ``classes`` that are not encoded yet."""
        with self._keeping:
            if self.per_class:
                return [c for c in dict.fromkeys(classes) if c not in self._kept]
            return [] if tuple(classes) in self._kept else list(dict.fromkeys(classes))

    def check(self, lists: list[list[Prompts]]) -> None:
        """A UserError if the class lists of one request bring more new classes than allowed."""
        new = {c for classes in lists for c in self.new(classes)}
        if len(new) > self.max_new:
            raise UserError(f"request: {len(new)} classes whose text is not encoded yet, over the limit of "
                            f"{self.max_new} per request; send them over several requests (encoded ones are kept)")

    def _take(self, keys) -> dict:
        """The kept values of ``keys`` that are kept, now the most recently used."""
        with self._keeping:
            found = {k: self._kept[k] for k in keys if k in self._kept}
            for k in found:
                self._kept.move_to_end(k)
        return found

    def _keep(self, items: dict) -> None:
        with self._keeping:
            self._kept.update(items)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def __call__(self, classes: list[Prompts]):
        """What ``model.logits`` takes for ``classes``, in their order."""
        if not self.per_class:
            key = tuple(classes)
            found = self._take([key])
            if key not in found:
                found[key] = self._encode(classes)
                self._keep(found)
            return found[key]
        found = self._take(dict.fromkeys(classes))
        missing = [c for c in dict.fromkeys(classes) if c not in found]
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            rows = dict(zip(chunk, self._encode(chunk)))
            self._keep(rows)
            found.update(rows)
        return torch.stack([found[c] for c in classes])
