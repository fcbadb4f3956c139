"""tunelab against the plain Hugging Face Trainer recipe on the classification presets.

Runs, one after the other in separate processes, `tunelab-train data=NAME` and
`scripts/hf_peer_classification.py --data NAME` with the same model, epochs, batch size, learning
rate and precision, then prints a markdown table of test accuracy and macro-F1.

    .venv/bin/python scripts/compare_classification.py --epochs 1 --seeds 42 1 2 \\
        --json outputs/cls_compare.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_tunelab(data: str, seed: int, args, out_dir: Path) -> dict:
    run_dir = out_dir / f"tunelab_{data}_seed{seed}"
    if args.reuse and (run_dir / "metrics.json").is_file():
        metrics = json.loads((run_dir / "metrics.json").read_text())
        return {"test_acc": metrics["test/acc"], "test_f1_macro": metrics["test/f1_macro"]}
    command = [
        sys.executable,
        "-m",
        "tunelab",
        "train",
        f"data={data}",
        f"trainer.max_epochs={args.epochs}",
        f"data.batch_size={args.batch_size}",
        f"optimizer.lr={args.lr}",
        f"trainer.precision={'bf16-mixed' if args.bf16 else '32-true'}",
        f"seed={seed}",
        f"hydra.run.dir={run_dir}",
        "~callbacks.progress_bar",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "test_acc": metrics["test/acc"],
        "test_f1_macro": metrics["test/f1_macro"],
        "wall_seconds": round(time.perf_counter() - start, 1),
    }


def run_peer(data: str, seed: int, args, out_dir: Path) -> dict:
    result = out_dir / f"peer_{data}_seed{seed}.json"
    if args.reuse and result.is_file():
        metrics = json.loads(result.read_text())
        return {"test_acc": metrics["test_acc"], "test_f1_macro": metrics["test_f1_macro"]}
    command = [
        sys.executable,
        str(ROOT / "scripts" / "hf_peer_classification.py"),
        "--data",
        data,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--lr",
        str(args.lr),
        "--seed",
        str(seed),
        "--json",
        str(result),
        *(["--bf16"] if args.bf16 else []),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    metrics = json.loads(result.read_text())
    return {
        "test_acc": metrics["test_acc"],
        "test_f1_macro": metrics["test_f1_macro"],
        "wall_seconds": round(time.perf_counter() - start, 1),
    }


def spread(values: list[float]) -> str:
    """`mean (sd)` in points, or the single value."""
    if len(values) == 1:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.mean(values):.2f} ({100 * statistics.stdev(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["rotten_tomatoes", "bbc_news", "sst2"])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42], help="one run per seed")
    parser.add_argument("--fp32", dest="bf16", action="store_false", help="no bf16 autocast")
    parser.add_argument("--out-dir", default=str(ROOT / "outputs" / "compare_classification"))
    parser.add_argument("--json", help="write all results here")
    parser.add_argument("--reuse", action="store_true", help="keep results already in --out-dir")
    args = parser.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    results = {}
    for data in args.data:
        results[data] = {"tunelab": {}, "peer": {}}
        for seed in args.seeds:
            results[data]["tunelab"][seed] = run_tunelab(data, seed, args, out_dir)
            results[data]["peer"][seed] = run_peer(data, seed, args, out_dir)
            print(json.dumps({data: {seed: {k: v[seed] for k, v in results[data].items()}}}))
    print(
        f"\n{args.epochs} epoch(s), batch {args.batch_size}, lr {args.lr}, "
        f"{'bf16-mixed' if args.bf16 else 'fp32'}, seeds {' '.join(map(str, args.seeds))}; "
        "mean (standard deviation) over seeds\n"
    )
    print("| data | tunelab acc | tunelab macro-F1 | HF Trainer acc | HF Trainer macro-F1 |")
    print("|---|---|---|---|---|")
    for data, sides in results.items():
        cells = [
            spread([run[key] for run in sides[side].values()])
            for side in ("tunelab", "peer")
            for key in ("test_acc", "test_f1_macro")
        ]
        print(f"| {data} | {' | '.join(cells)} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
