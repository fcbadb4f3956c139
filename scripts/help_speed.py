"""How long each command takes to print its help (issue 46: under two seconds), best of three,
as a new user's shell runs it: `.venv/bin/tunelab NAME --help`.

    .venv/bin/python scripts/help_speed.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tunelab.cli import COMMANDS

TUNELAB = Path(sys.executable).parent / "tunelab"


def seconds(command: list[str]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rows = [("tunelab --help", seconds([str(TUNELAB), "--help"]))]
    for name in COMMANDS:
        rows.append((f"tunelab {name} --help", seconds([str(TUNELAB), name, "--help"])))
    rows.append(
        (
            "python -m tunelab train --help",
            seconds([sys.executable, "-m", "tunelab", "train", "--help"]),
        )
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:5.2f} s")


if __name__ == "__main__":
    main()
