"""Frames: ffmpeg I/O, per-video frame archives, decoders, sampling, transforms, one clip as model input."""
