"""Task runners for sharded work: local processes by default, an existing Dask cluster by address."""

from __future__ import annotations

from prefect.task_runners import ThreadPoolTaskRunner


def task_runner(dask_address: str, workers: int):
    """A Dask runner on the cluster at ``dask_address``, else a thread pool whose tasks each drive a
    subprocess (so shards run as parallel local processes)."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    return ThreadPoolTaskRunner(max_workers=max(1, workers))
