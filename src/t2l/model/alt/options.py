"""ALT's options, with the paper's defaults for ViT-B (Sec. 3.4 and Appendix B)."""

from __future__ import annotations

from dataclasses import dataclass

from t2l.errors import UserError

QUERIES = ("entities", "tokens", "learned")


@dataclass(frozen=True)
class ALTOptions:
    # region-aware image encoder (Sec. 3.2, Eq. 2)
    r: int = 8  # tokens merged per ViT block (ToMe, CLS never merged); 0: no merging
    # visual-semantic alignment (Eq. 4-6)
    entities: str = ""  # cached entity embeddings (t2l.model.alt.entities.save_entity_embeddings)
    entity_texts: tuple[str, ...] = ()  # or entity texts, embedded at build by the frozen text encoder
    corpus: str = ""  # or a corpus JSON (the entities@<dataset> stage's), embedded at build likewise
    tau: float = 1.0  # Gumbel-softmax temperature (Appendix B)
    queries: str = "entities"  # "entities": MLP(A S); "tokens": MLP of the unit tokens, no entities;
    # "learned": random learnable queries instead of Eq. 6 (Table C3, first row)
    align_regions: bool = True  # align every output token; False: the CLS token alone (Table 5, "Region" off)
    # multi-modal video decoder (Eq. 8-9)
    decoder_blocks: int = 0  # M; 0: the paper's, 4 for ViT-B and 6 for ViT-L (t2l.model.alt.decoder.paper_blocks)
    conv_kernel: int = 3  # temporal 1D convolution, odd, zero-padded to keep T
    head_width: int = 64  # attention heads = width // head_width
    # training
    vit_lr_scale: float = 0.1  # the ViT at 8e-6 when the rest trains at 8e-5
    decoder_lr_scale: float = 1.0  # 10 in the paper's few-shot runs
    label_smoothing: float = 0.1  # X-CLIP's recipe, which the paper follows

    def __post_init__(self):
        def need(ok: bool, field: str, rule: str):
            if not ok:
                raise UserError(f"model.alt.{field} {rule}, got {getattr(self, field)!r}")

        need(self.r >= 0, "r", "must be >= 0")
        need(sum(map(bool, (self.entities, self.entity_texts, self.corpus))) <= 1, "corpus",
             "must be empty when model.alt.entities or entity_texts is set (one source of entities)")
        need(self.tau > 0, "tau", "must be > 0")
        need(self.queries in QUERIES, "queries", f"must be one of {', '.join(QUERIES)}")
        need(self.decoder_blocks >= 0, "decoder_blocks", "must be >= 0 (0: the paper's M for the backbone)")
        need(self.conv_kernel >= 1 and self.conv_kernel % 2 == 1, "conv_kernel", "must be odd and >= 1")
        need(self.head_width >= 1, "head_width", "must be >= 1")
        need(self.vit_lr_scale > 0, "vit_lr_scale", "must be > 0")
        need(self.decoder_lr_scale > 0, "decoder_lr_scale", "must be > 0")
        need(0 <= self.label_smoothing < 1, "label_smoothing", "must be in [0, 1)")
