"""The ``describe`` stage: a few text descriptions per class, from an LLM, a file or templates."""
