"""The retraining flow: every DVC stage as a task, in dvc.yaml's order, then the promotion gate.

Each stage runs through ``dvc repro --single-item`` (DVC skips what is up to date), retried on
transient failures. One MLflow parent run per flow run collects the ``track`` stage's runs and
each stage's output; the final ``register`` stage promotes the new model only if it beats the
champion. Any failure fails the flow before ``register``, so the champion stays as it was.

    python -m pipelines.retrain [--project .] [--protocol zero_shot ...] [--dataset D ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow

from pipelines.extract import run_extraction
from pipelines.settings import load_config
from pipelines.stages import StageFailed, repro, select, stage_env, stage_names
from pipelines.tracking import attach_log, close_parent_run, open_parent_run

PROMOTION = "register"


@flow(name="t2l-retrain")
def retrain(project: str = ".", protocols: list[str] | None = None, datasets: list[str] | None = None,
            extract_shards: int | None = None, dask_address: str | None = None, promote: bool = True) -> list[str]:
    """Run the pipeline in ``project``; return the stages run. None parameters come from params.yaml's
    ``orchestrate`` section; ``promote=False`` stops before the registry."""
    root = Path(project).resolve()
    cfg = load_config(root)
    protocols = list(cfg.protocols) if protocols is None else protocols
    datasets = list(cfg.datasets) if datasets is None else datasets
    shards = cfg.extract_shards if extract_shards is None else extract_shards
    stages = [s for s in select(stage_names(root), root, protocols, datasets) if promote or s != PROMOTION]
    stage = repro.with_options(retries=cfg.retries, retry_delay_seconds=cfg.retry_delay_s)
    promotion = stage.with_options(name="promote")  # the final task: the registry's promotion gate
    uri, parent = open_parent_run(str(root))
    env = stage_env(root, uri, parent)
    try:
        for name in stages:
            kind, _, item = name.partition("@")
            if kind == "extract" and shards > 0:
                run_extraction(str(root), [item], shards, cfg.dask_address if dask_address is None else dask_address)
            output = (promotion if name == PROMOTION else stage)(name, str(root), env)
            attach_log(str(root), parent, name, output)
    except BaseException as e:
        if isinstance(e, StageFailed):
            attach_log(str(root), parent, e.stage, str(e))
        close_parent_run(str(root), parent, "FAILED")
        raise
    close_parent_run(str(root), parent, "FINISHED")
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=".")
    parser.add_argument("--protocol", action="append", dest="protocols", help="evaluate@ stage to run (repeatable)")
    parser.add_argument("--dataset", action="append", dest="datasets", help="dataset to describe/extract (repeatable)")
    parser.add_argument("--no-promote", action="store_false", dest="promote")
    args = parser.parse_args()
    retrain(args.project, args.protocols, args.datasets, promote=args.promote)


if __name__ == "__main__":
    main()
