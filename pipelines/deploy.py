"""Schedule the retraining flow: ``flow.serve`` on the GPU node, or a deployment for a work pool.

    python -m pipelines.deploy serve [--project .]             # long-running; runs on the cron schedule
    python -m pipelines.deploy pool NAME [--project .]          # register with work pool NAME; start
                                                                # `prefect worker start --pool NAME`
The schedule, time zone and deployment name come from params.yaml's ``orchestrate`` section.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from pipelines.retrain import retrain
from pipelines.settings import load_config

ENTRYPOINT = "pipelines/retrain.py:retrain"


def _options(project: Path) -> dict:
    cfg = load_config(project)
    return {"name": cfg.deployment, "schedules": [Cron(cfg.cron, timezone=cfg.timezone)],
            "parameters": {"project": str(project)}, "tags": ["t2l", "retrain"]}


def deployment(project: Path) -> RunnerDeployment:
    """The served deployment: runs in the serving process, on this machine."""
    return retrain.to_deployment(**_options(Path(project).resolve()))


def deploy_to_pool(project: Path, pool: str):
    """A deployment whose runs a worker of ``pool`` picks up; the flow's code is read from ``project``."""
    project = Path(project).resolve()
    return retrain.from_source(str(project), ENTRYPOINT).deploy(work_pool_name=pool, **_options(project))


def main() -> None:
    parser = argparse.ArgumentParser(description="Schedule the t2l retraining flow.")
    parser.add_argument("mode", choices=("serve", "pool"))
    parser.add_argument("pool", nargs="?", help="work pool name (mode pool)")
    parser.add_argument("--project", default=".")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(deployment(Path(args.project)))
    elif not args.pool:
        parser.error("pool mode needs a work pool name")
    else:
        deploy_to_pool(Path(args.project), args.pool)


if __name__ == "__main__":
    main()
