"""ALT: "Align before Adapt" (efficient and generalizable video action recognition with a text corpus)."""

from t2l.model.alt.model import ALT
from t2l.model.alt.options import ALTOptions

__all__ = ["ALT", "ALTOptions"]
