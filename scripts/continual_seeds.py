"""The methods of finished `tunelab-continual` runs, as mean ± sd over their seeds.

Reads PARENT/METHOD-seedS/continual.json (the layout `tunelab-continual` writes under
outputs/continual/PRESET) and prints a markdown table, in percent: average incremental F1, final
F1 and mean forgetting per method, with the seeds found. A run whose last step has not finished
is left out and named.

    .venv/bin/python scripts/continual_seeds.py outputs/continual/conll2003
    .venv/bin/python scripts/continual_seeds.py outputs/continual/sst2+rotten_tomatoes+tweets
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from tunelab.training.rundir import markdown_table

KEYS = ("average_incremental_f1", "final_f1", "mean_forgetting")
RUN = re.compile(r"(?P<method>.+)-seed(?P<seed>\d+)")


def finished_runs(parent: Path) -> tuple[dict[str, dict[int, dict]], list[str]]:
    """Each method's finished reports by seed, and the folders left out."""
    runs: dict[str, dict[int, dict]] = {}
    unfinished = []
    for folder in sorted(parent.iterdir()):
        found = RUN.fullmatch(folder.name)
        report = folder / "continual.json"
        if not (found and folder.is_dir()):
            continue
        result = json.loads(report.read_text()) if report.is_file() else None
        if result is None or len(result["micro_f1"]) < len(result["order"]):
            unfinished.append(folder.name)
            continue
        runs.setdefault(found["method"], {})[int(found["seed"])] = result
    return runs, unfinished


def spread(values: list[float]) -> str:
    """Mean ± sample sd in percent; a single value alone."""
    mean = f"{100 * statistics.fmean(values):.2f}"
    return mean if len(values) < 2 else f"{mean} ± {100 * statistics.stdev(values):.2f}"


def table(runs: dict[str, dict[int, dict]]) -> str:
    rows = [
        [
            f"`{method}`",
            ", ".join(str(seed) for seed in sorted(by_seed)),
            *(spread([r[key] for r in by_seed.values()]) for key in KEYS),
        ]
        for method, by_seed in sorted(runs.items())
    ]
    header = ["method", "seeds", "average incremental", "final", "mean forgetting"]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parent", type=Path, help="outputs/continual/PRESET")
    args = parser.parse_args(argv)
    if not args.parent.is_dir():
        print(f"{args.parent}: no such folder", file=sys.stderr)
        return 2
    runs, unfinished = finished_runs(args.parent)
    if not runs:
        print(f"{args.parent}: no finished METHOD-seedS/continual.json", file=sys.stderr)
        return 1
    print(table(runs), end="")
    if unfinished:
        print(f"\nnot finished, left out: {', '.join(unfinished)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
