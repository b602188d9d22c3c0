"""Prefect orchestration of the DVC pipeline: the retraining flow, its deployment and sharded extraction."""
