"""The ``orchestrate`` section of params.yaml: schedule, retries, stage selection, extraction shards."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from t2l.params import parse, section


@dataclass(frozen=True)
class OrchestrateConfig:
    deployment: str = "t2l-retrain"
    cron: str = "0 3 * * 1"
    timezone: str = "UTC"
    protocols: tuple[str, ...] = ()  # evaluate@ stages (and the jobs they score) to run; () = all
    datasets: tuple[str, ...] = ()  # describe@ stages and sharded extraction; () = all
    retries: int = 2  # per stage, on transient failures only
    retry_delay_s: float = 60.0
    extract_shards: int = 2  # 0: no sharded extraction, `t2l extract` does it all
    dask_address: str = ""  # "" = local processes


def load_config(project: Path) -> OrchestrateConfig:
    return parse(OrchestrateConfig, section("orchestrate", Path(project) / "params.yaml"), "orchestrate")
