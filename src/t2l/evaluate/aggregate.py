"""Per-protocol summaries of per-split results: what each protocol of the paper reports."""

from __future__ import annotations

import re
from collections import defaultdict

from t2l.data.protocols.reader import Run
from t2l.evaluate.metrics import harmonic_mean, mean_std

STD_NOTE = "std is the sample standard deviation (ddof=1) over splits or seeds"


def _stats(results: list[dict], keys=("top1", "top5", "within_pair", "reversal_change", "logit_std")) -> dict:
    out = {}
    for key in keys:
        values = [r[key] for r in results if r.get(key) is not None]
        if values:
            out[f"{key}_mean"], out[f"{key}_std"] = mean_std(values)
    return out


def zero_shot(runs: list[Run], results: dict) -> dict:
    """Per target group: mean and std over its splits (K600: its class subsets), plus source val."""
    out = {}
    for run in runs:
        per_run = results[run.name]
        if "source_val" in per_run:
            out["source_val"] = per_run["source_val"]
        groups = defaultdict(dict)
        for e in run.eval:
            groups[e.group][e.name] = per_run[e.name]
        for group, splits in groups.items():
            out[group] = {**_stats(list(splits.values())), "splits": splits}
    return out


def base2novel(runs: list[Run], results: dict) -> dict:
    """Per dataset: base and novel top-1 and their harmonic mean, per seed and averaged."""
    per_dataset = defaultdict(dict)
    for run in runs:
        dataset, seed = run.name.rsplit("/", 1)
        groups = {e.group: results[run.name][e.name]["top1"] for e in run.eval}
        per_dataset[dataset][seed] = {"base_top1": groups["base"], "novel_top1": groups["novel"],
                                      "hm": harmonic_mean(groups["base"], groups["novel"])}
    out = {}
    for dataset, seeds in per_dataset.items():
        base, _ = mean_std([s["base_top1"] for s in seeds.values()])
        novel, _ = mean_std([s["novel_top1"] for s in seeds.values()])
        out[dataset] = {"base_top1": base, "novel_top1": novel, "hm": harmonic_mean(base, novel),
                        "hm_mean_over_seeds": mean_std([s["hm"] for s in seeds.values()])[0], "seeds": seeds}
    return out


FEW_SHOT_RUN = re.compile(r"^(?P<dataset>.+)/k(?P<k>\d+)/(?P<seed>seed\d+)$")


def few_shot(runs: list[Run], results: dict) -> dict:
    """Per dataset and K: top-1 per seed and the mean (and std) over seeds."""
    table = defaultdict(lambda: defaultdict(dict))
    for run in runs:
        m = FEW_SHOT_RUN.match(run.name)
        if m is None:
            raise ValueError(f"few-shot run name {run.name!r} is not <dataset>/k<K>/seed<S>")
        (result,) = results[run.name].values()
        table[m["dataset"]][f"k{m['k']}"][m["seed"]] = result["top1"]
    out = {}
    for dataset, ks in table.items():
        out[dataset] = {}
        for k, seeds in sorted(ks.items(), key=lambda kv: int(kv[0][1:])):
            mean, std = mean_std(list(seeds.values()))
            out[dataset][k] = {"top1_mean": mean, "top1_std": std, "seeds": dict(seeds)}
    return out


def fully_supervised(runs: list[Run], results: dict) -> dict:
    return {e.group: {k: v for k, v in results[run.name][e.name].items()} for run in runs for e in run.eval}


AGGREGATORS = {"zero_shot": zero_shot, "base2novel": base2novel, "few_shot": few_shot,
               "fully_supervised": fully_supervised}
