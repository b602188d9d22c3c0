"""Sharded frame extraction as a Prefect-mapped task: local processes and a real Dask cluster give
what `t2l extract` gives, and `t2l extract` afterwards keeps every archive."""

from __future__ import annotations

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import pandas as pd
import pytest
from helpers import run_t2l, world_params, write_splits

from pipelines.extract import run_extraction

DATASETS = ("synthetic_source", "synthetic_target")


def workspace(world, d):
    write_splits(world, d / "data/splits")
    (d / "params.yaml").write_text(world_params(world))
    return d


@pytest.fixture(scope="module")
def reference(world, tmp_path_factory):
    d = workspace(world, tmp_path_factory.mktemp("reference"))
    run_t2l("extract", cwd=d)
    return d


def same_as_reference(project, reference):
    for ds in DATASETS:
        got, want = (pd.read_csv(d / "data/frames" / ds / "manifest.csv") for d in (project, reference))
        pd.testing.assert_frame_equal(got, want)
        assert (project / "data/frames" / ds / "quarantine.json").read_text().strip() == "[]"


def test_local_shards_extract_what_t2l_extract_does_and_it_keeps_them(prefect_server, world, reference, tmp_path):
    project = workspace(world, tmp_path)
    summary = run_extraction(str(project), None, 3)
    assert summary == {ds: {"extracted": len(pd.read_csv(reference / "data/frames" / ds / "manifest.csv")),
                            "quarantined": 0} for ds in DATASETS}
    same_as_reference(project, reference)
    archives = {z: z.stat().st_mtime_ns for z in (project / "data/frames").rglob("*.zip")}
    run_t2l("extract", cwd=project)
    assert {z: z.stat().st_mtime_ns for z in (project / "data/frames").rglob("*.zip")} == archives


def test_shards_run_on_an_existing_dask_cluster(prefect_server, world, reference, tmp_path):
    from distributed import Client, LocalCluster, get_task_stream

    project = workspace(world, tmp_path)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, get_task_stream(client) as stream:
        run_extraction(str(project), ["synthetic_source"], 2, cluster.scheduler_address)
    assert len({t["worker"] for t in stream.data}) >= 1 and len(stream.data) >= 2
    got = pd.read_csv(project / "data/frames/synthetic_source/manifest.csv")
    pd.testing.assert_frame_equal(got, pd.read_csv(reference / "data/frames/synthetic_source/manifest.csv"))
