"""Shared fixtures: a tiny embedded world, the official layouts, a Prefect server and one run of
the retraining flow (helpers that are not fixtures live in ``helpers.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import TINY_WORLD

from t2l.data.synth.world import run as write_world


@pytest.fixture(scope="session")
def real_datasets(tmp_path_factory) -> dict:
    """The five datasets in their official layouts, converted and validated once per session."""
    from fixtures_datasets import convert_with_cli

    return convert_with_cli(tmp_path_factory.mktemp("official"))


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    """A tiny embedded world, written once per test session."""
    out = tmp_path_factory.mktemp("world")
    write_world(TINY_WORLD, out)
    return out


@pytest.fixture()
def world_copy(world, tmp_path) -> Path:
    """A private copy of the tiny world that a test may damage."""
    return Path(shutil.copytree(world, tmp_path / "world"))


@pytest.fixture(scope="session")
def prefect_server():
    """A Prefect test server for the session (tests/fixtures_prefect.py: private PREFECT_HOME, no analytics)."""
    from fixtures_prefect import server

    with server():
        yield


@pytest.fixture(scope="session")
def retrained(prefect_server, tmp_path_factory):
    """The real Prefect retraining flow, run once on a scratch DVC project of the tiny world."""
    from fixtures_prefect import retrain_once

    return retrain_once(tmp_path_factory.mktemp("retrained"))


def pytest_collection_modifyitems(items):
    """Under ``pytest -n`` (``make test``), the tests sharing an expensive session fixture run on one
    worker, so it is built once: the Prefect server and retraining flow, and the official layouts."""
    for item in items:
        names = set(item.fixturenames)
        group = "prefect" if names & {"prefect_server", "retrained"} else "official" if "real_datasets" in names else None
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
