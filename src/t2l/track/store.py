"""Where MLflow records runs: ``MLFLOW_TRACKING_URI``, else a sqlite store inside the project.

The default store is ``<project>/mlflow/mlflow.db`` (an absolute path, so every process of the
project finds the same store whatever its working directory) with artifacts beside it in
``<project>/mlflow/artifacts``. The project is the nearest directory up from the working
directory that holds ``dvc.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

STORE_DIR = "mlflow"
URI_ENV = "MLFLOW_TRACKING_URI"
SQLITE = "sqlite:///"
PARENT_ENV = "MLFLOW_PARENT_RUN_ID"  # set by the Prefect flow: log under its parent run


def project_root(start: Path | None = None) -> Path:
    start = (start or Path.cwd()).resolve()
    return next((d for d in (start, *start.parents) if (d / "dvc.yaml").is_file()), start)


def tracking_uri(root: Path | None = None) -> str:
    uri = os.environ.get(URI_ENV)
    return uri if uri else f"{SQLITE}{project_root(root) / STORE_DIR / 'mlflow.db'}"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (``sqlite:////abs/path`` is absolute), else None."""
    return Path(uri.removeprefix(SQLITE)).resolve() if uri.startswith(SQLITE) else None


def artifact_location(uri: str) -> str | None:
    """``artifacts/`` beside a sqlite database; None (the server decides) for other stores."""
    db = sqlite_path(uri)
    return (db.parent / "artifacts").as_uri() if db else None


def configure(root: Path | None = None) -> MlflowClient:
    """Point this process's tracking and registry at the store; return a client for it."""
    uri = tracking_uri(root)
    db = sqlite_path(uri)
    if db:
        db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(uri, uri)


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created (artifacts beside a sqlite store) if missing."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=artifact_location(client.tracking_uri))
