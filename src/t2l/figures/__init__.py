"""Figures of the pipeline's results, written as PNG files by the ``figures`` stage."""
