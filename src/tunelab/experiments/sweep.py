"""`tunelab-sweep-summary MULTIRUN_DIR`: one table of a Hydra multirun's runs, and a plot.

Writes `summary.csv`, `summary.md` and `summary.png` (the monitored metric against the swept value)
into the multirun folder. Also runs by itself at the end of every `tunelab-train -m` (a Hydra
callback, `SweepSummary`).
"""

from __future__ import annotations

import argparse
import csv
import logging
from pathlib import Path

from hydra.experimental.callback import Callback

from tunelab import tasks, untrusted
from tunelab.errors import TunelabError
from tunelab.training.rundir import markdown_table

log = logging.getLogger("tunelab")


def parse_overrides(items: list[str]) -> dict[str, str]:
    """`key=value` -> {key: value}; a deletion (`~key`) keeps its key with an empty value."""
    return dict(item.split("=", 1) if "=" in item else (item, "") for item in items)


def job_order(folder: Path) -> tuple:
    """Numbered jobs in number order (2 before 10), then any other folder by name."""
    return (
        not folder.name.isdigit(),
        int(folder.name) if folder.name.isdigit() else 0,
        folder.name,
    )


def read_run(folder: Path) -> dict:
    """A run folder's config (a broken one stops with one line) and scores (a broken
    metrics.json becomes the run's status, so that the other runs are still shown)."""
    config_file = folder / ".hydra" / "config.yaml"
    config = untrusted.read_yaml(config_file) or {}
    if not isinstance(config, dict):
        raise TunelabError(f"{config_file}: not a config (a YAML mapping)")
    metrics, status = {}, "no metrics.json"
    metrics_file = folder / "metrics.json"
    if metrics_file.is_file():
        try:
            metrics, status = untrusted.read_json(metrics_file), "done"
        except TunelabError as err:
            status = f"unreadable metrics.json ({err})"
        if not isinstance(metrics, dict):
            metrics, status = {}, "metrics.json is not a JSON object"
    scores = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
    return {
        "run": str(folder),
        "config": config,
        "monitor": config.get("monitor"),
        "task": config.get("task"),
        "status": status,
        **scores,
    }


def read_runs(multirun_dir: Path) -> list[dict]:
    """Each job folder's overrides (`key=value` strings parsed), monitor and metrics."""
    runs = []
    for overrides_file in sorted(multirun_dir.glob("*/.hydra/overrides.yaml")):
        job = overrides_file.parent.parent
        overrides = untrusted.read_yaml(overrides_file) or []
        if not isinstance(overrides, list):
            raise TunelabError(f"{overrides_file}: not a list of overrides")
        run = read_run(job)
        runs.append({"job": job.name, "overrides": parse_overrides(map(str, overrides)), **run})
    runs.sort(key=lambda run: job_order(Path(run["job"])))
    return runs


INTERVAL = ("_ci95_low", "_ci95_high")  # metrics.json suffixes of a score's bounds


def metric_columns(runs: list[dict]) -> list[str]:
    """The monitored (val) metric, its test counterpart, and the tasks' headline test scores,
    each followed by its interval bounds where written."""
    wanted = []
    for run in runs:
        if run.get("monitor"):
            wanted += [run["monitor"], run["monitor"].replace("val/", "test/")]
        if run.get("task"):
            # a run folder's config names the task: only tunelab's own are imported
            source = f"{run.get('run', 'a run')}/.hydra/config.yaml"
            try:
                wanted += tasks.get(str(run["task"]), named_by=source).headline
            except TunelabError:
                log.warning("%s names task %r, not one of tunelab's", source, run["task"])
    columns = []
    for key in dict.fromkeys(wanted):
        if any(key in run for run in runs):
            columns.append(key)
            # its 95% bootstrap interval, where the runs wrote one (tunelab.trust.bootstrap)
            bounds = [f"{key}{end}" for end in INTERVAL]
            columns += [b for b in bounds if any(b in run for run in runs)]
    return columns


def swept_keys(runs: list[dict]) -> list[str]:
    """Override keys whose value differs between runs, in first-seen order."""
    keys = dict.fromkeys(key for run in runs for key in run["overrides"])
    return [k for k in keys if len({run["overrides"].get(k) for run in runs}) > 1]


def as_number(value: str | None) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def summarize(multirun_dir: str | Path) -> Path:
    """Write summary.csv/.md/.png into `multirun_dir`; return the markdown file."""
    folder = Path(multirun_dir)
    runs = read_runs(folder)
    if not runs:
        raise TunelabError(f"{folder}: no runs found (expected */.hydra/overrides.yaml)")
    swept, metrics = swept_keys(runs), metric_columns(runs)
    header = ["job", *swept, *metrics, "status"]
    rows = [
        [run["job"], *(run["overrides"].get(k, "") for k in swept)]
        + [run.get(m, "") for m in metrics]
        + [run["status"]]
        for run in runs
    ]
    with (folder / "summary.csv").open("w", newline="") as out:
        csv.writer(out).writerows([header, *rows])
    markdown = folder / "summary.md"
    cells = [[f"{v:.4f}" if isinstance(v, float) else v for v in row] for row in rows]
    markdown.write_text(markdown_table(header, cells))
    scores = [m for m in metrics if not m.endswith(INTERVAL)]
    if swept and scores:
        plot(runs, swept[0], scores[:2], folder / "summary.png")
    return markdown


def plot(runs: list[dict], key: str, metrics: list[str], path: Path) -> None:
    """Metrics against the swept value (log scale when the values span a factor of 5 or more)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [as_number(run["overrides"].get(key)) for run in runs]
    numeric = all(v is not None for v in values)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for metric in metrics:
        points = [
            (x if numeric else run["overrides"].get(key), run.get(metric))
            for x, run in zip(values, runs, strict=True)
        ]
        points = [(x, y) for x, y in points if isinstance(y, float)]
        if numeric:
            points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=metric)
    if numeric and min(values) > 0 and max(values) / min(values) >= 5:
        ax.set_xscale("log")
    if numeric:  # ticks at the swept values only, labelled as given
        ax.set_xticks(sorted(set(values)), [f"{v:g}" for v in sorted(set(values))])
        ax.minorticks_off()
    ax.set_xlabel(key)
    ax.set_ylabel("score")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


class SweepSummary(Callback):
    """Hydra callback: summarise the multirun when it ends."""

    def on_multirun_end(self, config, **kwargs) -> None:
        markdown = summarize(config.hydra.sweep.dir)
        print(markdown.read_text())
        print(f"sweep summary: {markdown.parent / 'summary.csv'}, summary.md, summary.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("multirun_dir", help="a folder written by tunelab-train -m")
    args = parser.parse_args()
    try:
        print(summarize(args.multirun_dir).read_text())
    except TunelabError as error:
        raise SystemExit(f"tunelab: error: {error}") from None


if __name__ == "__main__":
    main()
