"""Evaluation: scoring every video, per-protocol metrics, robustness perturbations, reports."""
