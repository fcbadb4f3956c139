"""The run-directory contract: metrics.json, then the task's own files (predictions, report)."""

from __future__ import annotations

import json
from pathlib import Path

from tunelab.tasks import Task


def write_metrics(path: Path, metrics: dict[str, float]) -> None:
    """Flat `{"val/f1": ..., "test/f1": ...}`, keys sorted, as plain floats."""
    clean = {key: float(value) for key, value in sorted(metrics.items())}
    path.write_text(json.dumps(clean, indent=2) + "\n")


def write_run_outputs(run_dir: Path, task: Task, module, datamodule, split: str, metrics) -> str:
    """metrics.json and the task's files for `split` in the run directory; returns the
    per-label report."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(run_dir / "metrics.json", metrics)
    if datamodule.k_shot_samples:  # which examples a K-shot run learnt from
        chosen = datamodule.sampling
        sample = {"k_shot": chosen.k_shot, "k_shot_seed": chosen.k_shot_seed}
        sample.update(datamodule.k_shot_samples)
        (run_dir / "k_shot.json").write_text(json.dumps(sample, indent=1) + "\n")
    return task.write_outputs(run_dir, module, datamodule, split)


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A markdown table; cells are written with str() (format numbers before)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
