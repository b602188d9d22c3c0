"""T2L: zero-shot video action recognition with temporal token learning (EZ-CLIP)."""

__version__ = "0.1.0"
