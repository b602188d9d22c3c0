"""Before any work: does the active profile produce what each of its stages reads?

A stage that reads what no stage of the profile writes (a job on a protocol the profile does not
build, an evaluation of models nothing trains, a promotion gate on a group no evaluation scores)
would fail only after hours of training; ``t2l doctor`` names each such stage first.
"""

from __future__ import annotations

from pathlib import Path

from t2l import layout
from t2l.data.protocols.stage import configs as protocol_configs
from t2l.errors import UserError
from t2l.evaluate.stage import EvaluateConfig
from t2l.jobs import PROTOCOLS, ROBUSTNESS, evaluations, jobs
from t2l.params import parse


def protocol_groups(name: str, cfg) -> set[str]:
    """The metric groups an evaluation of protocol ``name`` writes (zero-shot: its targets and the
    source's val split; the others: their datasets)."""
    if name == "zero_shot":
        return {t.group for t in cfg.targets} | ({"source_val"} if cfg.source.val else set())
    return {d.dataset for d in cfg.datasets}


def protocol_datasets(name: str, cfg) -> set[str]:
    if name == "zero_shot":
        return {cfg.source.dataset, *(t.dataset for t in cfg.targets)}
    return {d.dataset for d in cfg.datasets}


def whole_train_splits(name: str, cfg) -> set[tuple[str, str]]:
    """``(dataset, split)`` a protocol trains on whole; base-to-novel and few-shot train on samples of
    them, which no other protocol's rows equal."""
    if name == "zero_shot":
        return {(cfg.source.dataset, cfg.source.train)}
    if name == "fully_supervised":
        return {(d.dataset, d.train) for d in cfg.datasets}
    return set()


def unproduced(params: dict, project: Path) -> list[tuple[str, str]]:
    """``(stage, what it reads that the profile does not produce, and where to change it)``."""
    try:
        built = protocol_configs(params.get("protocols") or {})
        table, trained = evaluations(params), jobs(params)
        evaluate = parse(EvaluateConfig, params.get("evaluate") or {}, "evaluate")
    except UserError as e:
        return [("params.yaml", str(e))]
    datasets = set(params.get("datasets") or {})
    found: list[tuple[str, str]] = []
    for name, cfg in built.items():
        for missing in sorted(protocol_datasets(name, cfg) - datasets):
            found.append(("protocols", f"protocols.{name} reads dataset {missing!r}, which the datasets section "
                                       f"lacks (datasets: {', '.join(sorted(datasets)) or 'none'})"))
    for job_name, job in trained.items():
        if job.protocol not in built:
            found.append((f"train@{job_name}", f"jobs.{job_name} trains on protocol {job.protocol!r}, which the "
                                               "protocols section does not build"))
    baselines = evaluate.baselines
    for evaluation, protocol in table.items():
        stage = f"evaluate@{evaluation}"
        own = protocol if evaluation == ROBUSTNESS else evaluation
        if own not in built:
            found.append((stage, f"scores the split files of protocol {own!r}, which the protocols section "
                                 "does not build"))
        if evaluation not in (protocol, ROBUSTNESS) and evaluation in built and protocol in built and not (
                whole_train_splits(evaluation, built[evaluation]) & whole_train_splits(protocol, built[protocol])):
            found.append((stage, f"evaluations.{evaluation} scores {protocol} models, but no {protocol} run trains on "
                                 f"the rows {evaluation} trains on (name {evaluation} itself, or the same train split)"))
        models = {j.model for j in trained.values() if j.protocol == protocol}
        if not models and not baselines:
            found.append((stage, f"no job trains a {protocol} model and evaluate.baselines is empty"))
        if evaluation == ROBUSTNESS:
            for model in sorted(set(evaluate.robustness.models) - models - set(baselines)):
                found.append((stage, f"evaluate.robustness.models names {model!r}, which no {protocol} job trains "
                                     "and no baseline is"))
    found += _register(params, built, table, trained)
    found += _corpus(params, trained, project)
    return found


def _register(params: dict, built: dict, table: dict, trained: dict) -> list[tuple[str, str]]:
    reg = params.get("register") or {}
    job_name, gate = reg.get("job", "zs-t2l"), reg.get("metrics") or {}
    if job_name not in trained:
        return [("register", f"register.job {job_name!r} is not a job of this profile "
                             f"(jobs: {', '.join(trained) or 'none'})")]
    if not gate:
        return [("register", "register.metrics is empty: name the gate metrics of this profile's evaluations, "
                             "e.g. zero_shot/<target>/top1_mean: max")]
    found = []
    for metric in gate:
        evaluation, _, rest = str(metric).partition("/")
        group = rest.split("/", 1)[0]
        scored = table.get(evaluation)
        own = scored if evaluation == ROBUSTNESS else evaluation
        if scored is None:
            found.append(("register", f"register.metrics {metric}: no evaluation {evaluation!r} in this profile "
                                      f"(evaluations: {', '.join(table) or 'none'})"))
        elif scored != trained[job_name].protocol:
            found.append(("register", f"register.metrics {metric}: evaluate@{evaluation} scores {scored} models, "
                                      f"register.job {job_name} is a {trained[job_name].protocol} model"))
        elif own in built and own in PROTOCOLS and group not in (groups := protocol_groups(own, built[own])):
            found.append(("register", f"register.metrics {metric}: evaluate@{evaluation} writes no group {group!r} "
                                      f"(its groups: {', '.join(sorted(groups))})"))
    return found


def _corpus(params: dict, trained: dict, project: Path) -> list[tuple[str, str]]:
    """ALT's entity corpus: a file on disk or one an entities@<dataset> stage writes."""
    if not any(j.model == "alt" for j in trained.values()):
        return []
    corpus = str(((params.get("model") or {}).get("alt") or {}).get("corpus") or "")
    made = {f"{layout.DESCRIPTIONS}/{d}.entities.json" for d in params.get("entities") or {}}
    if corpus and corpus not in made and not (project / corpus).is_file():
        return [("train@" + next(n for n, j in trained.items() if j.model == "alt"),
                 f"model.alt.corpus {corpus} is neither a file nor written by an entities@ stage "
                 f"(entities: {', '.join(params.get('entities') or {}) or 'none'})")]
    return []

