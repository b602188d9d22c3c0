"""Markdown tables of the pipeline's metrics files, for the README (``t2l report``)."""

from __future__ import annotations

from pathlib import Path

from t2l.evaluate.results import read_results
from t2l.jobs import evaluations

VARIANT_ORDER = ("vanilla", "adapters", "tfd", "ttl", "ttl_first_layer", "t2l", "vifi", "vifi_wse", "tc_clip",
                 "tc_clip_wse", "alt")
LABELS = {"vanilla": "vanilla CLIP (frame average)", "adapters": "adapters only", "tfd": "+TFD", "ttl": "+TTL",
          "ttl_first_layer": "+TTL first layer, +TFD", "t2l": "T2L (TTL + TFD)", "vifi": "ViFi-CLIP",
          "vifi_wse": "ViFi-CLIP, weight-space ensemble", "tc_clip": "TC-CLIP",
          "tc_clip_wse": "TC-CLIP, weight-space ensemble", "alt": "ALT",
          "probe_frame_average": "linear probe, frame average (ceiling)",
          "probe_concatenated": "linear probe, concatenated frames (ceiling)"}


def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _ordered(metrics: dict) -> list[str]:
    names = [m for m in metrics if m != "notes"]
    return sorted(names, key=lambda m: (VARIANT_ORDER.index(m) if m in VARIANT_ORDER else len(VARIANT_ORDER), m))


def zero_shot(metrics: dict) -> str:
    groups = sorted({g for m in _ordered(metrics) for g in metrics[m] if g != "source_val"})
    head = ["model", "source val top-1", *[f"{g} top-1 (mean ± std)" for g in groups],
            *[f"{g} within-pair" for g in groups], *[f"{g} reversal change" for g in groups],
            *[f"{g} logit std" for g in groups]]
    rows = []
    for m in _ordered(metrics):
        val = metrics[m].get("source_val", {})
        target = [metrics[m].get(g, {}) for g in groups]
        rows.append([LABELS.get(m, m), pct(val.get("top1")),
                     *[f"{pct(t.get('top1_mean'))} ± {pct(t.get('top1_std'))}" if t else "–" for t in target],
                     *[pct(t.get("within_pair_mean")) for t in target],
                     *[f"{t['reversal_change_mean']:.1e}" if "reversal_change_mean" in t else "–" for t in target],
                     *[f"{t['logit_std_mean']:.3f}" if "logit_std_mean" in t else "–" for t in target]])
    return _table(head, rows)


def other_protocols(results: dict[str, dict]) -> str:
    rows = []
    for protocol in ("base2novel", "few_shot", "fully_supervised", "robustness"):
        m = results.get(protocol)
        for model in _ordered(m) if m else ():
            for dataset, v in m[model].items():
                rows.append([protocol, LABELS.get(model, model), dataset, _summary(protocol, v)])
    return _table(["protocol", "model", "dataset", "result (top-1 %)"], rows)


def _summary(protocol: str, v: dict) -> str:
    if protocol == "base2novel":
        return f"base {pct(v['base_top1'])}, novel {pct(v['novel_top1'])}, HM {pct(v['hm'])}"
    if protocol == "few_shot":
        return ", ".join(f"K={k[1:]}: {pct(r['top1_mean'])}" for k, r in v.items())
    if protocol == "fully_supervised":
        return f"top-1 {pct(v['top1'])}, top-5 {pct(v['top5'])}"
    drops = [s["relative_drop"] for name, levels in v.items() if name != "clean_top1" for s in levels.values()]
    worst = max(((name, s) for name, levels in v.items() if name != "clean_top1" for s in levels.items()),
                key=lambda item: item[1][1]["relative_drop"])
    return (f"clean {pct(v['clean_top1'])}, mean relative drop {pct(sum(drops) / len(drops))} %, "
            f"worst {worst[0]} {worst[1][0]} ({pct(worst[1][1]['top1'])})")


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def render(params: dict, metrics_dir: Path) -> str:
    """The active profile's results (its configured evaluations' metrics files); what is not yet
    evaluated is said, not filled in from another profile's files."""
    results = read_results(params, metrics_dir)
    missing = [name for name in evaluations(params) if name not in results]
    parts = [zero_shot(results["zero_shot"])] if "zero_shot" in results else []
    if set(results) - {"zero_shot"}:
        parts.append(other_protocols(results))
    if missing:
        parts.append(f"Not evaluated yet ({params.get('profile', 'this profile')}): {', '.join(missing)} "
                     f"(dvc repro {' '.join(f'evaluate@{m}' for m in missing)})")
    return "\n\n".join(parts) + "\n"
