"""Frames: ffmpeg I/O, frame extraction into per-video archives, decoders, sampling, transforms."""
