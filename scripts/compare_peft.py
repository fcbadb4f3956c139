"""Parameter-efficient methods against full fine-tuning, measured on the same data and epochs.

Runs `tunelab-train peft=METHOD` for each method, one after the other in separate processes, and
prints a markdown table of the test score, trainable parameters, wall time and peak memory.

    .venv/bin/python scripts/compare_peft.py --data wnut16 --json outputs/peft/wnut16.json
    .venv/bin/python scripts/compare_peft.py --data rotten_tomatoes --epochs 1
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tunelab.training.rundir import markdown_table

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["none", "lora", "adalora", "ia3", "prefix", "head_only"]


def run(method: str, args, out_dir: Path) -> dict:
    run_dir = out_dir / f"{args.data}_{method}"
    if not (args.reuse and (run_dir / "metrics.json").is_file()):
        shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run, never a resumed old one
        command = [
            sys.executable,
            "-m",
            "tunelab",
            "train",
            f"data={args.data}",
            f"peft={method}",
            f"hydra.run.dir={run_dir}",
            "~callbacks.progress_bar",
            *([f"trainer.max_epochs={args.epochs}"] if args.epochs else []),
        ]
        with tempfile.NamedTemporaryFile("r") as usage:
            # GNU time: peak resident memory (KiB) and wall seconds of the whole run
            timed = ["/usr/bin/time", "-o", usage.name, "-f", "%M %e", *command]
            subprocess.run(timed, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            peak_kib, wall = usage.read().split()[-2:]
        (run_dir / "usage.json").write_text(
            json.dumps({"peak_rss_mb": int(peak_kib) / 1024, "wall_seconds": float(wall)})
        )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    usage = json.loads((run_dir / "usage.json").read_text())
    score = "test/f1" if "test/f1" in metrics else "test/acc"
    return {
        "score_name": score,
        "score": metrics[score],
        "f1_macro": metrics.get("test/f1_macro"),
        "trainable_params": metrics["model/trainable_params"],
        "total_params": metrics["model/total_params"],
        **usage,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="wnut16")
    parser.add_argument("--epochs", type=int, help="default: the preset's")
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--out-dir", default=str(ROOT / "outputs" / "peft"))
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--reuse", action="store_true", help="keep runs already in --out-dir")
    args = parser.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    results = {}
    for method in args.methods:
        results[method] = run(method, args, out_dir)
        print(json.dumps({method: results[method]}), flush=True)
    full = results.get("none", {}).get("score")
    print(f"\n{args.data}, {args.epochs or 'preset'} epoch(s)\n")
    header = ["method", "test score", "of full", "trainable params", "share", "wall time"]
    rows = [
        [
            method,
            f"{r['score_name']} {r['score']:.4f}",
            f"{100 * r['score'] / full:.0f}%" if full else "-",
            f"{int(r['trainable_params']):,}",
            f"{100 * r['trainable_params'] / r['total_params']:.2f}%",
            f"{r['wall_seconds'] / 60:.1f} min",
            f"{r['peak_rss_mb'] / 1024:.1f} GB",
        ]
        for method, r in results.items()
    ]
    print(markdown_table([*header, "peak RSS"], rows))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
