"""What the pipeline wrote, found on disk the way the figures and tracking stages both need it:
trained runs per job, the splits an evaluation scored, chance per headline row."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from t2l.data.protocols.reader import read_runs
from t2l.jobs import ROBUSTNESS, Job, jobs, trained_on
from t2l.model.trained import MODEL


@dataclass(frozen=True)
class Outputs:
    params: dict
    models: Path
    protocols: Path
    splits: Path

    @cached_property
    def trained(self) -> list[tuple[str, Job, str, Path]]:
        """``(job, spec, run name, run dir)`` of every trained model on disk, in params order."""
        found = []
        for name, job in jobs(self.params).items():
            base = self.models / job.protocol / name
            for m in sorted(base.rglob(MODEL)) if base.is_dir() else ():
                found.append((name, job, m.parent.relative_to(base).as_posix(), m.parent))
        return found

    def scores(self, evaluation: str) -> str:
        """The protocol whose models ``evaluation`` scored."""
        return trained_on(self.params, evaluation)

    def trained_dir(self, evaluation: str, model: str) -> Path | None:
        """The first run directory of ``model`` trained on the protocol ``evaluation`` scores."""
        return next((d for _, job, _, d in self.trained
                     if job.protocol == self.scores(evaluation) and job.model == model), None)

    def refs(self, evaluation: str) -> list:
        """``(run name, evaluated split)`` of every run ``evaluation`` scored: its own protocol's,
        robustness's those of the protocol whose models it perturbs."""
        protocol_dir = self.protocols / (self.scores(evaluation) if evaluation == ROBUSTNESS else evaluation)
        return [(r.name, e) for r in read_runs(protocol_dir) for e in r.eval] if protocol_dir.is_dir() else []

    def dataset_of(self, evaluation: str, group: str) -> str:
        return next((e.dataset for _, e in self.refs(evaluation) if group in (e.group, e.dataset)), group)

    def chance(self, evaluation: str, group: str) -> float | None:
        """Chance top-1 in % of a headline row: one over the classes its splits are scored among
        (the source's val split for ``source_val``; base-to-novel: the harmonic mean of its base and
        novel chances)."""
        protocol_dir = self.protocols / (self.scores(evaluation) if evaluation == ROBUSTNESS else evaluation)
        if group == "source_val":
            refs = [r.val for r in read_runs(protocol_dir) if r.val] if protocol_dir.is_dir() else []
        else:
            refs = [e for _, e in self.refs(evaluation) if group in (e.group, e.dataset)]
        chances = [(ref.group, 100.0 / len(ref.class_names())) for ref in refs if ref.classes.is_file()]
        if evaluation == "base2novel":
            base, novel = (next((c for g, c in chances if g == part), None) for part in ("base", "novel"))
            return None if not (base and novel) else 2 * base * novel / (base + novel)
        return sum(c for _, c in chances) / len(chances) if chances else None  # the row's mean over its splits
