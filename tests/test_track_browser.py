"""The MLflow UI as a researcher opens it: a real ``mlflow server`` on 127.0.0.1 over the store
the retraining flow wrote, the comparison page ``t2l track`` links to, in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import httpx
import pytest
from fixtures_serving import STARTUP_S, bin_env, free_port, stop
from helpers import BIN
from mlflow.tracking import MlflowClient
from playwright.sync_api import sync_playwright

from t2l.fsio import read_json
from t2l.track.links import LOCAL_UI

GATE = "zero_shot/synthetic_target/top1_mean"
# The comparison page's metrics section: a grid of metric names and a grid of values (a column per
# run, in the order of the run table above it); each cell (top, left, text), as drawn.
GRIDS = """(names) => {
  let box = names;
  while (box.querySelectorAll('[role=grid]').length < 2) box = box.parentElement;
  return [...box.querySelectorAll('[role=grid]')].slice(0, 2).map(grid =>
    [...grid.querySelectorAll('[role=rowgroup] > *')].map(c =>
      [parseFloat(c.style.top), parseFloat(c.style.left), c.innerText.trim()]));
}"""


@contextmanager
def ui_server(uri: str, log: Path) -> Iterator[str]:
    """``mlflow server`` over the store ``uri`` on a free loopback port; its base URL."""
    port = free_port()
    with open(log, "w+") as out:
        proc = subprocess.Popen([str(BIN / "mlflow"), "server", "--backend-store-uri", uri, "--host", "127.0.0.1",
                                 "--port", str(port), "--workers", "1"],
                                env=bin_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_S
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=5, trust_env=False).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                out.seek(0)
                assert proc.poll() is None and time.monotonic() < deadline, f"no server:\n{out.read()[-3000:]}"
                time.sleep(0.5)
            yield base
        finally:
            stop(proc)


@pytest.mark.timeout(600)
def test_the_comparison_page_lists_every_variant_with_its_zero_shot_top1(retrained, tmp_path):
    tracked = read_json(retrained.project / "mlflow/track.json")
    link = tracked["ui"]["compare"]["zero_shot · synthetic_target"]
    assert link.startswith(LOCAL_UI)  # what `t2l track` prints for `mlflow ui` on the project's store
    client = MlflowClient(retrained.uri)
    ids = tracked["evaluations"]["zero_shot"]["synthetic_target"]
    assert {"vanilla", "t2l"} <= set(ids)
    expected = {v: client.get_run(run_id).data.metrics[GATE] for v, run_id in ids.items()}
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: make test installs it (scripts/setup.sh --browser)"
    with ui_server(retrained.uri, tmp_path / "server.log") as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 2400, "height": 1400})  # every run's column drawn
        page.goto(base + link.removeprefix(LOCAL_UI))
        page.get_by_role("grid").filter(has_text=GATE).last.wait_for(timeout=120_000)
        runs = [c.strip() for c in page.locator("tr", has_text="Run Name:").first.locator("td").all_inner_texts()]
        names, values = page.get_by_role("grid").filter(has_text=GATE).last.evaluate(GRIDS)
        page.screenshot(path=str(tmp_path / "compare.png"))
        browser.close()
    row = next(top for top, _, text in names if text == GATE)
    cells = sorted((left, text) for top, left, text in values if top == row)
    shown = dict(zip(runs, (float(text) for _, text in cells)))
    for variant, value in expected.items():
        assert shown[f"zero_shot · {variant} · synthetic_target"] == pytest.approx(value, abs=5e-4)
