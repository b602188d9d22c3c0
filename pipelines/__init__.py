"""Prefect orchestration of the DVC pipeline: the retraining flow, its deployment and sharded extraction."""

import os

# Prefect's usage telemetry stays off (set before prefect is imported): it sends nothing home, and its
# writes to a local server's sqlite database are what made the first flow run report "database is locked".
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
