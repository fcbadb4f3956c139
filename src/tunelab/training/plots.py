"""Pictures of a run in RUN/plots/, drawn with matplotlib from what the run logged and wrote:
learning curves (every task), bars (e.g. NER's per-type F1, its most confused tags) and a
reliability diagram (classification). The tasks' `write_outputs` call the ones they need.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers
import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen

log = logging.getLogger("tunelab")
FOLDER = "plots"


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def logged_series(metrics_csv: Path, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one key of Lightning's CSV log (one row per logging call)."""
    steps, values = [], []
    with metrics_csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get(key) not in (None, "") and row.get("step") not in (None, ""):
                steps.append(int(float(row["step"])))
                values.append(float(row[key]))
    return steps, values


def learning_curves(run_dir: Path, monitor: str) -> Path | None:
    """plots/learning_curves.png: training and validation loss, and the monitored metric,
    against optimizer steps, from csv/metrics.csv (the CSV logger's file)."""
    source = run_dir / "csv" / "metrics.csv"
    if not source.is_file():
        log.info("no csv/metrics.csv (logger without csv): no learning-curve picture")
        return None
    figure, (loss_axes, metric_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for key, style in (("train/loss", "-"), ("val/loss", "o-")):
        steps, values = logged_series(source, key)
        if steps:
            loss_axes.plot(steps, values, style, label=key, markersize=4)
    loss_axes.set(xlabel="optimizer step", ylabel="loss", title="loss")
    loss_axes.legend()
    steps, values = logged_series(source, monitor)
    metric_axes.plot(steps, values, "o-", color="tab:green", markersize=4)
    if values:
        best = max(values) if "loss" not in monitor else min(values)
        metric_axes.axhline(best, color="grey", linestyle=":", label=f"best {best:.4f}")
        metric_axes.legend()
    metric_axes.set(xlabel="optimizer step", ylabel=monitor, title=f"{monitor} (validation)")
    return _save(figure, run_dir / FOLDER / "learning_curves.png")


def bars(path: Path, title: str, names: list[str], values: list[float], xlabel: str) -> Path:
    """A horizontal bar chart, one bar per name, its value written at its end."""
    figure, axes = plt.subplots(figsize=(7, 1.2 + 0.35 * len(names)))
    positions = range(len(names))
    axes.barh(positions, values, color="tab:blue")
    axes.set_yticks(positions, names)
    axes.invert_yaxis()  # the first name on top
    for position, value in zip(positions, values, strict=True):
        axes.text(value, position, f" {value:.4g}", va="center", fontsize=8)
    axes.set(xlabel=xlabel, title=title)
    axes.set_xlim(0, max(values, default=1) * 1.15 or 1)
    return _save(figure, path)


def lines(path: Path, title: str, x: list, series: dict[str, list[float]], labels: tuple) -> Path:
    """One line per named series over the same x, with markers; `labels`: (x label, y label)."""
    figure, axes = plt.subplots(figsize=(6, 4))
    for name, values in series.items():
        axes.plot(x, values, marker="o", markersize=3, label=name)
    axes.set(xlabel=labels[0], ylabel=labels[1], title=title)
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def reliability(path: Path, series: dict[str, tuple]) -> Path:
    """A reliability diagram: accuracy against confidence per bin, one line per series
    (`name -> (bin centres, accuracies, counts, ECE)`, `tunelab.trust.calibration`'s bins; e.g.
    before and after calibration)."""
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    for name, (centres, accuracies, counts, ece) in series.items():
        axes.plot(centres, accuracies, marker="o", label=f"{name}: ECE {ece:.3f}")
        if len(series) == 1:
            for x, y, n in zip(centres, accuracies, counts, strict=True):
                axes.text(x, y, str(n), ha="center", va="bottom", fontsize=7)
    axes.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="confidence of the decision")
    axes.set(ylabel="share right", title="reliability (test split)")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    return _save(figure, path)


def heat_map(path: Path, matrix: list[list[int]], labels: list[str]) -> Path:
    """A confusion matrix as a heat map that stays readable at any class count: counts written
    in the cells up to 20 classes, the tick labels shrinking with the count beyond."""
    count = len(labels)
    size = min(4 + 0.45 * count, 24)
    font = max(6, min(10, int(360 / max(count, 1))))
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(count), labels, rotation=90 if count > 10 else 45, ha="right")
    axes.set_yticks(range(count), labels)
    axes.tick_params(labelsize=font)
    axes.set(xlabel="predicted", ylabel="gold", title="confusion matrix (rows: gold)")
    if count <= 20:
        top = max((max(row) for row in matrix), default=0)
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                colour = "white" if value > top / 2 else "black"
                axes.text(j, i, str(value), ha="center", va="center", fontsize=8, color=colour)
    figure.colorbar(image, fraction=0.046, pad=0.04)
    return _save(figure, path)


def timelines(path: Path, title: str, series: dict[str, dict]) -> Path:
    """One panel per named series (at most 12) over time: `share` as a line, `baseline`
    dashed, and the windows flagged in `alerts` as red dots."""
    names = list(series)[:12]
    figure, panels = plt.subplots(len(names), 1, figsize=(9, 1.6 + 1.4 * len(names)), sharex=True)
    panels = [panels] if len(names) == 1 else list(panels)
    for axes, name in zip(panels, names, strict=True):
        line = series[name]
        axes.plot(line["x"], line["share"], linewidth=1, label="share")
        axes.plot(line["x"], line["baseline"], linewidth=1, linestyle="--", label="baseline")
        flagged = [
            (x, y) for x, y, a in zip(line["x"], line["share"], line["alerts"], strict=True) if a
        ]
        if flagged:
            axes.scatter(*zip(*flagged, strict=True), color="red", s=14, zorder=3, label="alert")
        axes.set_ylabel(name)
        axes.set_ylim(0, 1)
        axes.grid(alpha=0.3)
    panels[0].set_title(title)
    panels[0].legend(loc="upper right", fontsize=7)
    figure.autofmt_xdate()
    return _save(figure, path)
