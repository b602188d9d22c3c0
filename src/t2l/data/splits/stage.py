"""The ``splits`` stage: each configured dataset's official layout -> its canonical split directory."""

from __future__ import annotations

from pathlib import Path

from t2l.data.splits import adapters
from t2l.data.splits.schema import dataset_info


def run(datasets: dict, out: Path) -> list[str]:
    """Convert ``datasets`` (name -> DatasetSpec); what was written, and the videos left out."""
    lines = []
    for name, spec in datasets.items():
        written = adapters.build(spec.adapter, name, Path(spec.root), Path(out), spec.options)
        lines.append(f"splits: wrote {written}")
        for split, m in dataset_info(written).get("missing_videos", {}).items():
            if m["count"]:
                lines.append(f"  {split}: {m['count']} of {m['of']} videos missing (left out; listed in dataset.json)")
    return lines
