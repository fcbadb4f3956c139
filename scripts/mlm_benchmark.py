"""Masked-LM pre-training benchmarks: speed against the plain Hugging Face recipe, and the F1 that
task-adaptive and from-scratch pre-training bring to fine-tuning.

    .venv/bin/python scripts/mlm_benchmark.py speed --json outputs/mlm_speed.json
    .venv/bin/python scripts/mlm_benchmark.py tapt --corpus wnut17 --mlm-epochs 30 \
        --seeds 42 43 44 45 46 --json outputs/tapt_wnut17.json
    .venv/bin/python scripts/mlm_benchmark.py tapt --name tapt_wnut17_lr3e-4 \
        --mlm-overrides optimizer.lr=3e-4 --reuse-baseline outputs/tapt_wnut17.json \
        --seeds 42 43 44 45 46 --json outputs/tapt_wnut17_lr3e-4.json   # a variant
    .venv/bin/python scripts/mlm_benchmark.py scratch --mlm-epochs 10 \
        --json outputs/scratch_msra.json

speed: the same text blocks (CoNLL-2003 training text unless --corpus), model, batch of 32 blocks
of 128 sub-tokens, learning rate, warm-up and precision on both sides, each in its own process:
the plain recipe (Trainer + DataCollatorForLanguageModeling over `group_texts` blocks) and tunelab
with its defaults (head warm-up off, so that both train every parameter on every step). Both final
models are then scored here, the same way, on the same masked dev blocks.

tapt: `tunelab-train data=text data.from=CORPUS` once, then `tunelab-train data=CORPUS` from the
packaged encoder and from the pre-trained one, per seed; mean and standard deviation of test F1.

scratch: a small BERT pre-trained from scratch on the MSRA training text
(`model=bert_small_scratch`), then fine-tuned on MSRA NER, against the same architecture and
vocabulary from random weights.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tunelab.training.rundir import markdown_table

ROOT = Path(__file__).resolve().parents[1]
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
TRAIN = [sys.executable, "-m", "tunelab", "train"]


def write_text_folder(corpus: str, folder: Path) -> None:
    """train.txt and dev.txt: a labelled preset's texts, one a line."""
    from tunelab.tasks.mlm.datamodule import preset_texts

    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev"):
        (folder / f"{split}.txt").write_text("\n".join(preset_texts(corpus, split)) + "\n")


def text_datamodule(folder: str, tokenizer: str):
    from hydra import compose, initialize_config_dir

    from tunelab.config import CONFIG_DIR, build

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=["data=text", f"data.dir={folder}"])
    return build(cfg.data, tokenizer=tokenizer, cache_dir=None)


def dev_loss(model_dir: str, folder: str) -> dict:
    """Mean loss over the masked dev sub-tokens (tunelab's fixed dev masks), plain fp32 forward."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForMaskedLM

    datamodule = text_datamodule(folder, model_dir)
    model = AutoModelForMaskedLM.from_pretrained(model_dir).eval()
    total, count, correct = 0.0, 0, 0
    items = datamodule.encoded("dev")
    with torch.no_grad():
        # batches of full blocks; the last block, which may be shorter, alone
        full = [item for item in items if len(item["input_ids"]) == len(items[0]["input_ids"])]
        rest = [[item] for item in items if len(item["input_ids"]) != len(items[0]["input_ids"])]
        for rows in [full[i : i + 32] for i in range(0, len(full), 32)] + rest:
            ids = torch.tensor([row["input_ids"] for row in rows])
            labels = torch.tensor([row["labels"] for row in rows])
            logits = model(input_ids=ids).logits
            chosen = labels != -100
            total += float(F.cross_entropy(logits[chosen], labels[chosen], reduction="sum"))
            count += int(chosen.sum())
            correct += int((logits[chosen].argmax(-1) == labels[chosen]).sum())
    return {
        "dev_loss": total / count,
        "dev_perplexity": math.exp(total / count),
        "dev_accuracy": correct / count,
    }


def peer(folder: str, args, output: str) -> dict:
    """The plain recipe: tokenize, group_texts into blocks, Trainer with the MLM collator."""
    import torch
    from transformers import (
        AutoModelForMaskedLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from tunelab.data.registry import resolve_model

    path = resolve_model(MODEL)
    tokenizer = AutoTokenizer.from_pretrained(path)
    texts = [line for line in (Path(folder) / "train.txt").read_text().splitlines() if line.strip()]
    encoded = tokenizer(texts, return_special_tokens_mask=True)
    blocks = []
    concatenated = {key: sum(encoded[key], []) for key in encoded}
    size = len(concatenated["input_ids"]) // args.block * args.block
    for start in range(0, size, args.block):
        blocks.append(
            {key: value[start : start + args.block] for key, value in concatenated.items()}
        )
    set_seed(args.seed)
    model = AutoModelForMaskedLM.from_pretrained(path)
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=output,
            num_train_epochs=args.epochs,
            per_device_train_batch_size=32,
            learning_rate=1e-4,
            weight_decay=0.01,
            warmup_steps=0.1,  # a ratio in transformers 5
            max_grad_norm=1.0,
            bf16=args.bf16,
            save_strategy="no",
            eval_strategy="no",
            report_to=[],
            seed=args.seed,
            use_cpu=not torch.cuda.is_available(),
        ),
        train_dataset=blocks,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15),
    )
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    trainer.save_model(output)
    tokenizer.save_pretrained(output)
    return {"train_seconds": seconds, "train_tokens": args.epochs * len(blocks) * args.block}


def tunelab(folder: str, args, output: str) -> dict:
    """tunelab with its defaults (head warm-up off: every parameter trains on every step)."""
    import pytorch_lightning as pl
    from hydra import compose, initialize_config_dir

    from tunelab.config import CONFIG_DIR, build
    from tunelab.training.train import build_data_and_model

    overrides = ["data=text", f"data.dir={folder}", f"trainer.max_epochs={args.epochs}"]
    overrides += [f"seed={args.seed}", f"data.max_length={args.block}", "data.cache_dir=null"]
    overrides += ["model.head_warmup_steps=0"]
    if not args.bf16:
        overrides.append("trainer.precision=32-true")
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    pl.seed_everything(cfg.seed)
    datamodule, model = build_data_and_model(cfg)
    datamodule.setup("fit")
    trainer = build(
        cfg.trainer,
        logger=False,
        callbacks=[],
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        default_root_dir=tempfile.mkdtemp(),
    )
    start = time.perf_counter()
    trainer.fit(model, datamodule=datamodule)
    seconds = time.perf_counter() - start
    model.export(output, datamodule.tokenizer)
    blocks = len(datamodule.encoded("train"))
    return {
        "train_seconds": seconds,
        "train_tokens": args.epochs * blocks * args.block,
        "precision": str(cfg.trainer.precision),
    }


def worker(args) -> None:
    output = str(Path(args.result).with_suffix(""))
    result = (tunelab if args.worker == "tunelab" else peer)(args.folder, args, output)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.update(dev_loss(output, args.folder))
    Path(args.result).write_text(json.dumps(result))


def speed(args) -> dict:
    results = {"corpus": args.corpus, "epochs": args.epochs, "block": args.block, "bf16": args.bf16}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "text"
        write_text_folder(args.corpus, folder)
        runs: dict[str, list[dict]] = {"peer": [], "tunelab": []}
        for seed in args.seeds:  # seeds outermost: a slow spell of the machine hits both sides
            for side in runs:
                result_file = Path(scratch) / f"{side}-{seed}.json"
                command = [sys.executable, __file__, "speed", "--worker", side]
                command += ["--folder", str(folder), "--result", str(result_file)]
                command += ["--epochs", str(args.epochs), "--seed", str(seed)]
                command += ["--block", str(args.block), *(["--bf16"] if args.bf16 else [])]
                subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                run = json.loads(result_file.read_text())
                run["tokens_per_s"] = run["train_tokens"] / run["train_seconds"]
                runs[side].append({"seed": seed, **run})
                print(json.dumps({side: runs[side][-1]}), flush=True)
    for side, side_runs in runs.items():
        results[side] = {
            key: statistics.fmean(r[key] for r in side_runs)
            for key in (
                "tokens_per_s",
                "train_seconds",
                "dev_loss",
                "dev_perplexity",
                "dev_accuracy",
                "peak_rss_mb",
            )
        }
        results[side]["runs"] = side_runs
    rows = [
        [
            side,
            f"{r['tokens_per_s']:.0f}",
            f"{r['dev_perplexity']:.2f}",
            f"{r['dev_accuracy']:.4f}",
            f"{r['peak_rss_mb'] / 1024:.2f} GB",
        ]
        for side, r in ((side, results[side]) for side in runs)
    ]
    ratio = results["tunelab"]["tokens_per_s"] / results["peer"]["tokens_per_s"]
    results["speedup"] = ratio
    print(
        markdown_table(
            ["side", "train tokens/s", "dev perplexity", "dev accuracy", "peak RSS"], rows
        )
    )
    print(f"tunelab / peer: {ratio:.2f}x")
    return results


def run_train(overrides: list[str], run_dir: Path) -> dict:
    """One `tunelab-train` in its own process; its metrics.json and wall time."""
    start = time.perf_counter()
    command = [*TRAIN, *overrides, f"hydra.run.dir={run_dir}"]
    subprocess.run(
        command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["wall_seconds"] = time.perf_counter() - start
    return metrics


def run_seconds(run_dir: Path) -> float:
    """From the run's first file (its record) to its last (metrics.json)."""
    first = (run_dir / "run_record.json").stat().st_mtime
    return (run_dir / "metrics.json").stat().st_mtime - first


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def compare(
    base: list[str], pretrained: Path, seeds: list[int], root: Path, baseline: list | None
) -> dict:
    """Fine-tune from the packaged encoder and from `pretrained`, once per seed each (`baseline`:
    the packaged encoder's runs of an earlier comparison, reused)."""
    sides = {"without": list(baseline or []), "with": []}
    for seed in seeds:
        for side in [side for side in sides if not (side == "without" and baseline)]:
            model = [f"model.model_name_or_path={pretrained}"] if side == "with" else []
            metrics = run_train([*base, *model, f"seed={seed}"], root / f"ner-{side}-{seed}")
            sides[side].append(
                {
                    "seed": seed,
                    "test_f1": metrics["test/f1"],
                    "wall_seconds": metrics["wall_seconds"],
                }
            )
            print(json.dumps({side: sides[side][-1]}), flush=True)
    return sides


def tapt(args) -> dict:
    root = ROOT / "outputs" / "mlm_benchmark" / (args.name or f"tapt_{args.corpus}")
    mlm_dir = root / "mlm"
    mlm = ["data=text", f"data.from={args.corpus}", f"trainer.max_epochs={args.mlm_epochs}"]
    mlm += args.mlm_overrides
    if not (mlm_dir / "metrics.json").is_file():
        run_train(mlm, mlm_dir)
    pretraining = json.loads((mlm_dir / "metrics.json").read_text())
    pretraining["wall_seconds"] = run_seconds(mlm_dir)
    baseline = None
    if args.reuse_baseline:  # the same fine-tuning runs from the packaged encoder
        baseline = json.loads(Path(args.reuse_baseline).read_text())["without"]["runs"]
        if sorted(run["seed"] for run in baseline) != sorted(args.seeds):
            raise SystemExit(f"{args.reuse_baseline} holds other seeds than {args.seeds}")
    sides = compare([f"data={args.corpus}"], mlm_dir / "model", args.seeds, root, baseline)
    results = {"corpus": args.corpus, "mlm_overrides": mlm, "mlm": pretraining}
    for side, runs in sides.items():
        mean, std = mean_std([r["test_f1"] for r in runs])
        results[side] = {"test_f1_mean": mean, "test_f1_std": std, "runs": runs}
    results["gain"] = results["with"]["test_f1_mean"] - results["without"]["test_f1_mean"]
    print(
        markdown_table(
            ["fine-tuned from", "test F1 (mean ± sd)", "seeds"],
            [
                [
                    side,
                    f"{results[side]['test_f1_mean']:.4f} ± {results[side]['test_f1_std']:.4f}",
                    " ".join(str(r["seed"]) for r in results[side]["runs"]),
                ]
                for side in sides
            ],
        )
    )
    print(
        f"gain: {100 * results['gain']:+.2f} F1 points; MLM test perplexity "
        f"{pretraining['test/perplexity']:.2f}"
    )
    return results


def scratch(args) -> dict:
    """Pre-train a small BERT on MSRA's training text, then fine-tune it and its random twin."""
    import torch
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer

    root = ROOT / "outputs" / "mlm_benchmark" / (args.name or "scratch_msra")
    mlm_dir = root / "mlm"
    mlm = [
        "data=text",
        "data.from=msra",
        "model=bert_small_scratch",
        f"trainer.max_epochs={args.mlm_epochs}",
        *args.mlm_overrides,
    ]
    if not (mlm_dir / "metrics.json").is_file():
        run_train(mlm, mlm_dir)
    pretraining = json.loads((mlm_dir / "metrics.json").read_text())
    pretraining["wall_seconds"] = run_seconds(mlm_dir)
    random_dir = root / "random_init"
    if not (random_dir / "config.json").is_file():
        torch.manual_seed(0)
        config = AutoConfig.from_pretrained(mlm_dir / "model")
        AutoModelForMaskedLM.from_config(config).save_pretrained(random_dir)
        AutoTokenizer.from_pretrained(mlm_dir / "model").save_pretrained(random_dir)
    base = ["data=msra", f"trainer.max_epochs={args.ner_epochs}", *args.ner_overrides]
    results = {"mlm_overrides": mlm, "mlm": pretraining, "ner_overrides": base}
    reused = {}
    if args.reuse_baseline:  # the random twin's fine-tuning runs of an earlier comparison
        earlier = json.loads(Path(args.reuse_baseline).read_text())
        if earlier["ner_overrides"] != base:
            raise SystemExit(f"{args.reuse_baseline} fine-tuned with {earlier['ner_overrides']}")
        reused["random"] = earlier["random"]["runs"]
        if sorted(run["seed"] for run in reused["random"]) != sorted(args.seeds):
            raise SystemExit(f"{args.reuse_baseline} holds other seeds than {args.seeds}")
    for side, model in (("pretrained", mlm_dir / "model"), ("random", random_dir)):
        runs = list(reused.get(side, []))
        for seed in [] if side in reused else args.seeds:
            metrics = run_train(
                [*base, f"model.model_name_or_path={model}", f"seed={seed}"],
                root / f"ner-{side}-{seed}",
            )
            runs.append(
                {
                    "seed": seed,
                    "test_f1": metrics["test/f1"],
                    "wall_seconds": metrics["wall_seconds"],
                }
            )
            print(json.dumps({side: runs[-1]}), flush=True)
        mean, std = mean_std([r["test_f1"] for r in runs])
        results[side] = {"test_f1_mean": mean, "test_f1_std": std, "runs": runs}
    print(json.dumps(results, indent=2))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["speed", "tapt", "scratch"])
    parser.add_argument("--corpus", help="data preset (speed: conll2003, tapt: wnut17)")
    parser.add_argument("--epochs", type=int, default=1, help="speed: epochs over the text")
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--mlm-epochs", type=int, default=30)
    parser.add_argument("--ner-epochs", type=int, default=5)
    parser.add_argument("--mlm-overrides", nargs="*", default=[])
    parser.add_argument("--ner-overrides", nargs="*", default=[])
    parser.add_argument("--json", help="write all results here")
    parser.add_argument(
        "--name", help="tapt, scratch: folder under outputs/mlm_benchmark (a variant)"
    )
    parser.add_argument(
        "--reuse-baseline",
        help="an earlier JSON: its runs without MLM (tapt) or from random weights (scratch)",
    )
    parser.add_argument("--seed", type=int, default=42, help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    args.corpus = args.corpus or {"speed": "conll2003", "tapt": "wnut17"}.get(args.part)
    results = {"speed": speed, "tapt": tapt, "scratch": scratch}[args.part](args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
