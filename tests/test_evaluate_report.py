"""``t2l report``: the README's results tables are rendered from the metrics files as they are."""

import json

from helpers import REPO, run_t2l


def test_report_renders_the_metrics_files(tmp_path):
    zs = {"t2l": {"source_val": {"top1": 0.25}, "ucf": {"top1_mean": 0.5, "top1_std": 0.1, "within_pair_mean": 0.6,
                                                        "reversal_change_mean": 0.012, "logit_std_mean": 0.0071}},
          "vanilla": {"source_val": {"top1": 0.125}, "ucf": {"top1_mean": 0.375, "top1_std": 0.0}},
          "probe_concatenated": {"source_val": {"top1": 0.3}}, "notes": {"std": "sample"}}
    robust = {"t2l": {"ucf": {"clean_top1": 0.5, "blur": {"s1": {"top1": 0.4, "relative_drop": 0.2}},
                              "reverse": {"s1": {"top1": 0.1, "relative_drop": 0.8}}}}}
    (tmp_path / "zero_shot.json").write_text(json.dumps(zs))
    (tmp_path / "robustness.json").write_text(json.dumps(robust))
    out = run_t2l("report", "--metrics-dir", str(tmp_path)).stdout
    lines = out.splitlines()
    assert lines[2].startswith("| vanilla CLIP (frame average) | 12.5 | 37.5 ± 0.0 | – | – | – |")
    assert "| T2L (TTL + TFD) | 25.0 | 50.0 ± 10.0 | 60.0 | 1.2e-02 | 0.007 |" in out
    assert "| linear probe, concatenated frames (ceiling) | 30.0 | – | – | – |" in out
    assert "| robustness | T2L (TTL + TFD) | ucf | clean 50.0, mean relative drop 50.0 %, worst reverse s1 (10.0) |" in out


def test_the_readmes_results_tables_are_the_reports_rendering_of_the_committed_metrics():
    readme = (REPO / "README.md").read_text().splitlines()
    rows = [line for line in run_t2l("report", cwd=REPO).stdout.splitlines() if line.startswith("|")]
    assert rows and [r for r in rows if r not in readme] == []
