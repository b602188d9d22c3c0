"""Benchmarks: model cost against vanilla CLIP and ViFi-CLIP, the data path, a training-step profile."""
