"""The report of a continual run, whatever its steps add (labels or datasets): the step x label
F1 matrix, average incremental F1, final F1 and forgetting, as continual.json, continual.md and
continual.png."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from tunelab.training.rundir import markdown_table


def report(
    order: list[list[str]],
    steps: list[dict],
    micro: str,
    unseen: bool = False,
    seen_name: str = "micro F1 (seen)",
) -> dict:
    """The step x label F1 matrix (None before a label is learnt, unless `unseen`: scores
    before learning are kept), average incremental F1 (mean over steps of the score on the
    labels seen, `seen_name`), final F1, and forgetting per label (its best score from its own
    step to the one before the last, minus its final score)."""
    kinds = [kind for group in order for kind in group]
    learnt = {kind: i for i, group in enumerate(order) for kind in group}
    matrix = [
        [metrics.get(f"test/f1_{kind}") if unseen or learnt[kind] <= i else None for kind in kinds]
        for i, metrics in enumerate(steps)
    ]
    final = matrix[-1]
    forgetting = {}
    if len(steps) == len(order) > 1:
        for k, kind in enumerate(kinds):
            earlier = [
                row[k]
                for i, row in enumerate(matrix[:-1])
                if learnt[kind] <= i and row[k] is not None
            ]
            if earlier:
                forgetting[kind] = max(earlier) - final[k]
    return {
        "order": order,
        "labels": kinds,
        "matrix": matrix,
        "seen_name": seen_name,
        "micro_f1": [metrics[micro] for metrics in steps],
        "average_incremental_f1": statistics.fmean(m[micro] for m in steps),
        "final_f1": steps[-1][micro],
        "forgetting": forgetting,
        "mean_forgetting": statistics.fmean(forgetting.values()) if forgetting else 0.0,
        "wall_seconds": [m["wall_seconds"] for m in steps],
    }


def plot(result: dict, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    order, matrix = result["order"], result["matrix"]
    learnt = {kind: i for i, group in enumerate(order) for kind in group}
    figure, axes = plt.subplots(figsize=(6, 4))
    steps = list(range(1, len(matrix) + 1))
    for k, kind in enumerate(result["labels"]):
        scores, first = [row[k] for row in matrix], learnt[kind]
        line = axes.plot(steps[first:], scores[first:], marker="o", label=kind)[0]
        if any(v is not None for v in scores[:first]):  # before learning it: dotted, hollow
            axes.plot(
                steps[: first + 1],
                scores[: first + 1],
                ":",
                marker="o",
                markerfacecolor="none",
                color=line.get_color(),
            )
    axes.plot(steps, result["micro_f1"], marker="s", color="black", label=result["seen_name"])
    ticks = ["\n".join("+" + kind for kind in kinds) for kinds in order[: len(matrix)]]
    axes.set_xticks(steps, ticks)  # one label a line: long names would overlap
    axes.set_xlabel("step (labels learnt)")
    axes.set_ylabel("test F1")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_report(result: dict, title: str, out: Path) -> str:
    order = result["order"]
    rows = [
        [
            f"{i} (+{'+'.join(order[i])})",
            *("" if v is None else f"{v:.4f}" for v in row),
            f"{micro:.4f}",
        ]
        for i, (row, micro) in enumerate(zip(result["matrix"], result["micro_f1"], strict=True))
    ]
    table = markdown_table(["step", *result["labels"], result["seen_name"]], rows)
    summary = (
        f"average incremental F1 {result['average_incremental_f1']:.4f}, final F1 "
        f"{result['final_f1']:.4f}, mean forgetting {result['mean_forgetting']:.4f}"
    )
    (out / "continual.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "continual.md").write_text(f"# Continual learning: {title}\n\n{table}\n{summary}\n")
    plot(result, title, out / "continual.png")
    return f"{table}\n{summary}"
