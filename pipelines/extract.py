"""Frame extraction of large datasets as a Prefect-mapped task over shards.

Per dataset: prepare the output directory exactly as ``t2l extract`` does (same settings marker,
stale archives pruned), map ``extract_shard`` over shards — each a ``python -m pipelines.shard``
process running ``t2l.frames.extract.extract_videos`` on ``paths[i::n]`` — then write the manifest
and quarantine report. ``dvc repro extract@<dataset>`` afterwards finds every archive in place and only
records the result. The task runner decides where shards run: local processes, or a Dask
cluster (``dask_address``; its workers need this project at the same path and the same
environment).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from pipelines.runners import task_runner
from pipelines.shard import FRAMES, SPLITS
from t2l.frames.extract import finish_dataset, prepare_dataset, split_paths
from t2l.jobs import extract_config
from t2l.params import load, section

CODE = Path(__file__).resolve().parents[1]  # where `pipelines` is importable from


def _prepare(project: Path, dataset: str) -> tuple[Path, list[str], dict]:
    params = load(project / "params.yaml")
    cfg = extract_config(params)
    root = project / params["datasets"][dataset]["root"]
    return prepare_dataset(cfg, dataset, str(root), project / SPLITS, project / FRAMES)


@task(name="prepare-extraction", cache_policy=NO_CACHE)
def prepare(project: str, dataset: str) -> int:
    """Mark and prune the dataset's frame directory as ``t2l extract`` does; return its video count."""
    return len(_prepare(Path(project), dataset)[1])


@task(name="extract-shard", task_run_name="{dataset} {index}/{shards}", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=5)
def extract_shard(project: str, dataset: str, index: int, shards: int) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(CODE), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "pipelines.shard", dataset, str(index), str(shards)], cwd=project,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"shard {index}/{shards} of {dataset} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@task(name="finish-extraction", cache_policy=NO_CACHE)
def finish(project: str, dataset: str, quarantined: list[list[dict]]) -> dict:
    entries = [q for shard in quarantined for q in shard]
    project_dir = Path(project)
    manifest = finish_dataset(split_paths(project_dir / SPLITS / dataset), project_dir / FRAMES / dataset, entries)
    return {"extracted": len(manifest), "quarantined": len(entries)}


@flow(name="t2l-extract")
def extract_frames(project: str = ".", datasets: list[str] | None = None, shards: int = 2) -> dict:
    """Extract every video of ``datasets`` (default: all of params.yaml) in ``shards`` mapped tasks each."""
    project = str(Path(project).resolve())
    summary = {}
    for dataset in datasets or list(section("datasets", Path(project) / "params.yaml")):
        prepare(project, dataset)
        parts = extract_shard.map(unmapped(project), unmapped(dataset), range(shards), unmapped(shards))
        summary[dataset] = finish(project, dataset, parts.result())
    return summary


def run_extraction(project: str, datasets: list[str] | None, shards: int, dask_address: str = "") -> dict:
    """``extract_frames`` on local processes, or on the Dask cluster at ``dask_address``."""
    return extract_frames.with_options(task_runner=task_runner(dask_address, shards))(project, datasets, shards)
