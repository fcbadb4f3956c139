"""`tunelab-compare RUN_OR_MULTIRUN...`: runs side by side.

A table of each run's scores (the monitored metric, its test counterpart, the task's headline
scores, with their 95% intervals) and of every config value that differs between the runs, as
compare.md and compare.csv, and a picture of the monitored metric per run (compare.png), in
`--out` (default: outputs/compare/). A multirun folder stands for each of its jobs.

Each run tested on the same items as the first is also compared with it, item by item: the
paired bootstrap interval of the difference of each headline score, and a verdict (`better`,
`worse`, `no clear difference`) where the interval leaves out 0 or not.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from tunelab import tasks
from tunelab.errors import TunelabError
from tunelab.experiments.sweep import job_order, metric_columns
from tunelab.experiments.sweep import read_run as sweep_read_run
from tunelab.training import plots
from tunelab.training.rundir import markdown_table
from tunelab.trust.bootstrap import paired_difference

# Where a run lives or how Hydra ran it, not what it trained: never a difference worth a column.
IGNORED = ("paths.", "hydra.", "trainer.default_root_dir", "callbacks.model_checkpoint.dirpath")


def run_folders(given: list[str]) -> list[Path]:
    """Each named run, and each job of each named multirun, in order."""
    found = []
    for name in given:
        folder = Path(name)
        if (folder / ".hydra" / "config.yaml").is_file():
            found.append(folder)
            continue
        jobs = sorted(p.parent.parent for p in folder.glob("*/.hydra/config.yaml"))
        if not jobs:
            raise TunelabError(f"{folder}: not a run or multirun folder (no .hydra/config.yaml)")
        found += sorted(jobs, key=job_order)
    return found


def flatten(node, prefix: str = "") -> dict[str, str]:
    """A nested config as dotted keys and their values, written as YAML writes them."""
    if isinstance(node, dict):
        flat = {}
        for key, value in node.items():
            flat.update(flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): json.dumps(node) if isinstance(node, list) else str(node)}


def read_run(folder: Path) -> dict:
    run = sweep_read_run(folder)
    return {**run, "config": flatten(run["config"])}


def differing_keys(runs: list[dict]) -> list[str]:
    keys = dict.fromkeys(key for run in runs for key in run["config"])
    return [
        key
        for key in keys
        if not key.startswith(IGNORED) and len({run["config"].get(key) for run in runs}) > 1
    ]


def compare(given: list[str], out: str | Path = "compare", split: str | None = None) -> Path:
    """Write compare.csv/.md/.png into `out`; return the markdown file."""
    runs = [read_run(folder) for folder in run_folders(given)]
    if not runs:
        raise TunelabError("name a run or more (or a multirun) to compare")
    differ, metrics = differing_keys(runs), metric_columns(runs)
    header = ["run", *metrics, *differ, "status"]
    rows = [
        [run["run"], *(run.get(m, "") for m in metrics)]
        + [run["config"].get(k, "") for k in differ]
        + [run["status"]]
        for run in runs
    ]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "compare.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    cells = [[f"{v:.4f}" if isinstance(v, float) else v for v in row] for row in rows]
    markdown = folder / "compare.md"
    alone = "\nOne run: nothing to compare it with yet; name more runs or a multirun folder.\n"
    paired = paired_section(runs, split) if len(runs) > 1 else alone
    markdown.write_text(markdown_table(header, cells) + paired)
    if metrics:
        scored = [run for run in runs if isinstance(run.get(metrics[0]), float)]
        names = [short_name(run["run"], [r["run"] for r in runs]) for run in scored]
        values = [run[metrics[0]] for run in scored]
        plots.bars(folder / "compare.png", f"{metrics[0]} per run", names, values, metrics[0])
    return markdown


def tested_items(run: dict, split: str | None) -> tuple:
    """(task, gold, pred) of the run's predictions file for `split` (None: its only one)."""
    folder = Path(run["run"])
    task = tasks.get(str(run["task"]), named_by=f"{folder}/.hydra/config.yaml")
    if task.agreement is None:
        raise TunelabError(f"{folder}: a {task.name} run has no item-by-item scores to pair")
    if split is None:
        files = sorted((folder / "predictions").glob("*.*"))
        if len(files) != 1:
            found = ", ".join(f.name for f in files) or "none"
            raise TunelabError(f"{folder}/predictions: one file expected ({found}); give --split")
        split = files[0].stem
    return task, *task.agreement.read_predictions(folder, split)


def paired_section(runs: list[dict], split: str | None = None) -> str:
    """Markdown: each later run against the first, per headline score, paired on the items."""
    base = runs[0]
    try:
        task, gold, base_pred = tested_items(base, split)
    except TunelabError as err:
        return f"\nNo paired comparison: {err}\n"
    lines = ["", f"Paired bootstrap against {base['run']} (95% interval of the difference):", ""]
    rows = []
    for run in runs[1:]:
        try:
            other_task, other_gold, pred = tested_items(run, split)
        except TunelabError as err:
            rows.append([run["run"], "", "", "", "", f"not paired: {err}"])
            continue
        if other_task.name != task.name or other_gold != gold:
            rows.append([run["run"], "", "", "", "", "not paired: tested on other items"])
            continue
        first = task.agreement.item_counts(gold, base_pred)
        counts = task.agreement.item_counts(gold, pred)
        for metric in first.point():
            found = paired_difference(counts, first, metric)
            rows.append(
                [
                    run["run"],
                    f"test/{metric}",
                    f"{found.a:.4f} vs {found.b:.4f}",
                    f"{found.difference:+.4f}",
                    f"[{found.low:+.4f}, {found.high:+.4f}]",
                    found.verdict,
                ]
            )
    header = ["run", "score", "run vs first", "difference", "95% interval", "verdict"]
    return "\n".join(lines) + markdown_table(header, rows)


def short_name(path: str, every: list[str]) -> str:
    """The shortest tail of `path` (by folder) that no other run shares."""
    parts = Path(path).parts
    for count in range(1, len(parts) + 1):
        tail = "/".join(parts[-count:])
        if sum(other.endswith(tail) for other in every) == 1:
            return tail
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders, or multirun folders (each job)")
    parser.add_argument("--out", default="outputs/compare", help="folder for compare.md/.csv/.png")
    parser.add_argument(
        "--split", default=None, help="the predictions file paired (default: a run's only one)"
    )
    args = parser.parse_args()
    try:
        markdown = compare(args.runs, args.out, args.split)
    except TunelabError as error:
        raise SystemExit(f"tunelab: error: {error}") from None
    print(markdown.read_text())
    print(f"wrote {markdown}, compare.csv and compare.png in {markdown.parent}")


if __name__ == "__main__":
    main()
