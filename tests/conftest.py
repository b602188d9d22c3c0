"""Shared fixtures: a tiny embedded world, the official layouts, a Prefect server and one run of
the retraining flow (helpers that are not fixtures live in ``helpers.py``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
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


# -- pytest -n (make test): the tests that share an expensive session fixture run on one worker --
SHARED = {"retrained": "prefect", "prefect_server": "prefect", "real_datasets": "official"}  # fixture -> group


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller names the file its workers write their groups to
        os.environ.setdefault("T2L_TEST_GROUPS", str(Path(tempfile.gettempdir()) / f"t2l-test-groups-{os.getpid()}.json"))


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        Path(os.environ["T2L_TEST_GROUPS"]).unlink(missing_ok=True)


def pytest_collection_modifyitems(items):
    """A worker writes ``{test: group}`` for the tests that use a SHARED fixture (directly or not)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    groups = {item.nodeid: g for item in items for fixture, g in SHARED.items() if fixture in item.fixturenames}
    path = Path(os.environ["T2L_TEST_GROUPS"])
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(groups))
    partial.replace(path)


def pytest_xdist_make_scheduler(config, log):
    """Whole groups to one worker each (largest first), every other test to whichever worker is free."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # written by the workers before they report their collections
                self.groups = json.loads(Path(os.environ["T2L_TEST_GROUPS"]).read_text())
            return self.groups.get(nodeid, nodeid)

    return SharedFixtureScheduling(config, log)
