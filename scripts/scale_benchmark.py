"""Peak memory and time of tokenizing a text corpus for masked-LM training, and of a short training
run on it, as the corpus grows: tunelab against a `datasets`-based Hugging Face recipe on the same
files (issue 50).

    .venv/bin/python scripts/scale_benchmark.py make --sizes 1 10 100 1000     # MB of text
    .venv/bin/python scripts/scale_benchmark.py tokenize --sizes 1 10 100 --json OUT.json
    .venv/bin/python scripts/scale_benchmark.py train --sizes 10 100 --json OUT.json
    .venv/bin/python scripts/scale_benchmark.py make --rows 10000 1000000       # CSV rows
    .venv/bin/python scripts/scale_benchmark.py train --rows 10000 1000000 --json OUT.json

`make` writes `outputs/scale/text-<MB>mb/train.txt` and a small `dev.txt`: lines of three to
eight sentences drawn at random (seed 0) from CoNLL-2003, WNUT-17 and SST-2 in ../shared, so the
text is real English whatever its size; `make --rows` writes `outputs/scale/table-<rows>/`
train.csv (`text,label`: SST-2 training sentences and their labels drawn at random, seed 0) and
1,000-row dev.csv and test.csv. Each measurement runs in a child process of its own, which
reports its peak resident memory (its own and its workers') and wall time:
- `tokenize`: `tunelab` reads the folder with the packaged MiniLM's tokenizer and cuts
  128-sub-token blocks into an empty cache (`TextDataModule.encoded("train")`); `hf` does the
  same with `datasets.load_dataset("text")` and two `Dataset.map` calls (tokenize, then group
  into blocks, as Hugging Face's `run_mlm.py` does), `--num-proc` processes, into an empty cache.
- `train`: `tunelab-train data=text data.dir=FOLDER trainer.max_steps=5` (no validation) from an
  empty cache, or with `--rows` `tunelab-train data=csv data.dir=FOLDER ...` the same way: the
  whole command's peak memory and wall time; `--sides hf`: the `hf` tokenization above, then
  transformers' `Trainer` (bf16, batch 32, `DataCollatorForLanguageModeling`) for five steps.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "outputs" / "scale"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def sentences() -> list[str]:
    found = []
    for corpus in ("conll2003", "wnut17"):
        words: list[str] = []
        for line in (SHARED / corpus / "train.txt").read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if parts and not parts[0].startswith("-DOCSTART-"):
                words.append(parts[0])
            elif words:
                found.append(" ".join(words))
                words = []
    rows = (SHARED / "sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    found += [row.split("\t")[0] for row in rows]
    return found


def make(sizes: list[int]) -> None:
    pool, rng = sentences(), random.Random(0)
    for size in sizes:
        folder = OUT / f"text-{size}mb"
        folder.mkdir(parents=True, exist_ok=True)
        for name, target in (("train.txt", size * 2**20), ("dev.txt", 2**18)):
            path = folder / name
            if path.is_file() and path.stat().st_size >= target:
                continue
            written = 0
            with path.open("w", encoding="utf-8") as out:
                while written < target:
                    line = " ".join(rng.choices(pool, k=rng.randint(3, 8))) + "\n"
                    out.write(line)
                    written += len(line.encode())
        print(f"{folder}: {folder.joinpath('train.txt').stat().st_size / 2**20:.0f} MB")


def make_tables(rows: list[int]) -> None:
    lines = (SHARED / "sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    pool = [(text, label) for label, text in (line.split("\t") for line in lines)]
    rng = random.Random(0)
    for count in rows:
        folder = OUT / f"table-{count}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, size in (("train.csv", count), ("dev.csv", 1000), ("test.csv", 1000)):
            path = folder / name
            if path.is_file():
                continue
            with path.open("w", encoding="utf-8", newline="") as out:
                table = csv.writer(out)
                table.writerow(["text", "label"])
                table.writerows(rng.choice(pool) for _ in range(size))
        print(f"{folder}: {count} training rows")


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, workers) / 1024, 1)


def tokenize_tunelab(folder: Path, cache: Path, num_proc: int) -> dict:
    from tunelab.tasks.mlm.datamodule import TextDataModule

    start = time.perf_counter()
    module = TextDataModule.from_config(MODEL, dir=str(folder), cache_dir=str(cache))
    blocks = module.encoded("train")
    return {"seconds": round(time.perf_counter() - start, 1), "blocks": len(blocks)}


def tokenize_hf(folder: Path, cache: Path, num_proc: int, train_steps: int = 0) -> dict:
    import datasets
    from transformers import AutoTokenizer

    from tunelab.data.registry import resolve_model

    datasets.disable_progress_bars()
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(MODEL))
    raw = datasets.load_dataset(
        "text", data_files={"train": str(folder / "train.txt")}, cache_dir=str(cache)
    )["train"]
    raw = raw.filter(lambda row: bool(row["text"].strip()), num_proc=num_proc)
    tokens = raw.map(
        lambda rows: tokenizer([t.strip() for t in rows["text"]]),
        batched=True,
        num_proc=num_proc,
        remove_columns=["text"],
    )

    def group(rows, length=128):
        ids = [token for row in rows["input_ids"] for token in row]
        full = len(ids) // length * length
        return {"input_ids": [ids[i : i + length] for i in range(0, full, length)]}

    blocks = tokens.map(group, batched=True, num_proc=num_proc, remove_columns=tokens.column_names)
    result = {"seconds": round(time.perf_counter() - start, 1), "blocks": len(blocks)}
    if train_steps:
        from transformers import (
            AutoModelForMaskedLM,
            DataCollatorForLanguageModeling,
            Trainer,
            TrainingArguments,
        )

        model = AutoModelForMaskedLM.from_pretrained(resolve_model(MODEL))
        arguments = TrainingArguments(
            str(cache / "run"),
            max_steps=train_steps,
            per_device_train_batch_size=32,
            bf16=True,
            report_to=[],
            save_strategy="no",
            logging_strategy="no",
            dataloader_num_workers=0,
            use_cpu=True,
        )
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
        Trainer(model=model, args=arguments, train_dataset=blocks, data_collator=collator).train()
        result["total_seconds"] = round(time.perf_counter() - start, 1)
    return result


def one(side: str, size: int, num_proc: int) -> None:
    """Child process: one measurement, printed as JSON on the last line."""
    folder = OUT / f"text-{size}mb"
    cache = Path(tempfile.mkdtemp(prefix="scale-"))
    try:
        if side == "hf-train":  # the Hugging Face recipe's five training steps
            result = tokenize_hf(folder, cache, num_proc, train_steps=5)
        else:
            run = {"tunelab": tokenize_tunelab, "hf": tokenize_hf}[side]
            result = run(folder, cache, num_proc)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(json.dumps({**result, "peak_mb": peak_mb()}))


def child(command: list[str]) -> dict:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        return {"error": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def train_run(size: int, table: bool) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="scale-"))
    data = (
        ["data=csv", f"data.dir={OUT / f'table-{size}'}"]
        if table
        else ["data=text", f"data.dir={OUT / f'text-{size}mb'}"]
    )
    run_dir = Path(tempfile.mkdtemp(prefix="scale-run-"))
    command = [
        "/usr/bin/time",
        "-f",
        "%M %e",
        sys.executable,
        "-m",
        "tunelab",
        "train",
        *data,
        f"data.cache_dir={cache}",
        "+trainer.max_steps=5",
        "+trainer.limit_val_batches=0",
        "+trainer.limit_test_batches=2",
        f"hydra.run.dir={run_dir}",
    ]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stderr[-3000:])
            return {"error": done.returncode}
        kb, seconds = done.stderr.strip().splitlines()[-1].split()
        return {"peak_mb": round(int(kb) / 1024, 1), "seconds": float(seconds)}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["make", "tokenize", "train", "one"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rows", type=int, nargs="+", help="CSV tables of these many rows")
    parser.add_argument("--sides", nargs="+", default=["tunelab", "hf"])
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.what == "make":
        make_tables(args.rows) if args.rows else make(args.sizes)
        return
    if args.what == "one":
        one(args.sides[0], args.sizes[0], args.num_proc)
        return
    results = []
    for size in args.rows or args.sizes:
        if args.what == "train":
            unit = "rows" if args.rows else "mb"
            for side in args.sides:
                if side == "tunelab":
                    measured = train_run(size, bool(args.rows))
                elif not args.rows:  # the Hugging Face masked-LM recipe
                    command = [sys.executable, __file__, "one", "--sides", "hf-train"]
                    measured = child(
                        [*command, "--sizes", str(size), "--num-proc", str(args.num_proc)]
                    )
                else:
                    continue
                results.append({unit: size, "side": side, **measured})
                print(json.dumps(results[-1]), flush=True)
        else:
            for side in args.sides:
                command = [sys.executable, __file__, "one", "--sides", side, "--sizes", str(size)]
                measured = child([*command, "--num-proc", str(args.num_proc)])
                results.append({"mb": size, "side": side, "num_proc": args.num_proc, **measured})
                print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
