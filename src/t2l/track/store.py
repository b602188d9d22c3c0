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

from t2l.errors import UserError

STORE_DIR = "mlflow"
URI_ENV = "MLFLOW_TRACKING_URI"
SQLITE = "sqlite:///"
PARENT_ENV = "MLFLOW_PARENT_RUN_ID"  # set by the Prefect flow: log under its parent run
# MLflow 3's UI opens an experiment of this kind on its model-training views (runs, charts),
# not on the GenAI overview of traces.
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"


def find_project(start: Path | None = None) -> Path | None:
    """The nearest directory up from ``start`` (default: the working directory) with a dvc.yaml."""
    start = (start or Path.cwd()).resolve()
    return next((d for d in (start, *start.parents) if (d / "dvc.yaml").is_file()), None)


def project_root(start: Path | None = None) -> Path:
    return find_project(start) or (start or Path.cwd()).resolve()


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


def existing_uri(start: Path | None = None) -> str:
    """The store to read from, which must exist already: unlike ``configure`` this creates nothing."""
    uri = os.environ.get(URI_ENV)
    if not uri:
        start = (start or Path.cwd()).resolve()
        project = find_project(start)
        if project is None:
            raise UserError(f"no MLflow store to read: {URI_ENV} is unset and neither {start} nor a directory "
                            f"above it holds dvc.yaml; set {URI_ENV} (e.g. "
                            f"sqlite:////path/to/project/mlflow/mlflow.db) or run inside the project")
        uri = tracking_uri(project)
    db = sqlite_path(uri)
    if db is not None and not db.is_file():
        source = URI_ENV if os.environ.get(URI_ENV) else "the project's default store"
        raise UserError(f"{db}: no MLflow store there ({source}); set {URI_ENV} to the store that holds the model")
    return uri


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
    """The id of experiment ``name``, created (artifacts beside a sqlite store) if missing, marked
    as a model-training experiment."""
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name, artifact_location=artifact_location(client.tracking_uri),
                                        tags={KIND_TAG: KIND})
    if KIND_TAG not in found.tags:
        client.set_experiment_tag(found.experiment_id, KIND_TAG, KIND)
    return found.experiment_id
