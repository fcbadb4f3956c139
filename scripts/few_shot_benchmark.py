"""Few-shot classification: tunelab's contrastive few-shot (`method=setfit`) against the `setfit`
library, and against plain head fine-tuning, on the same K-shot samples.

    .venv/bin/python scripts/few_shot_benchmark.py --data sst2 --k 8 --seeds 0 1 2 3 4 5 6 7 8 9 \
        --json outputs/few_shot_sst2_k8.json

Each run is its own process, timed from start to exit (imports, reading the corpus, training,
predicting the test split): `tunelab` is `tunelab-train data=D data.k_shot=K method=setfit
seed=S`; `head` the same without `method=setfit` (fine-tuning with a classification head, the
defaults a user gets); `prompt` with `method=prompt` from `--prompt-model` (a masked LM warmed
on the task's texts: `tunelab-train data=text data.from=sst2 trainer.max_epochs=1`); `peer`
the setfit library with its defaults (`TrainingArguments()`: batch 16, one epoch of
oversampled pairs, body lr 2e-5, logistic-regression head, fp32) on the same encoder and
the same K-shot sample, drawn by tunelab's sampler from the same seed.
Finished runs are kept under outputs/few_shot_benchmark/ and reused when the script is run again.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = [sys.executable, "-m", "tunelab", "train"]
PROMPT_MODEL: list[str] = []
MODEL = ["minilm"]  # the model preset (--model) of every side
SIDES = {"tunelab": ["method=setfit"], "head": [], "prompt": ["method=prompt"]}


def run_tunelab(side: str, data: str, k: int, seed: int, folder: Path, extra: list[str]) -> dict:
    run_dir = folder / f"{side}-{seed}"
    if not (run_dir / "metrics.json").is_file():
        command = [*TRAIN, f"data={data}", f"data.k_shot={k}", f"seed={seed}", *SIDES[side]]
        command.append(f"model={MODEL[0]}")
        if side == "prompt":  # a masked LM warmed on the task's texts (--prompt-model)
            command.append(f"model.model_name_or_path={PROMPT_MODEL[0]}")
        command += [*extra, f"hydra.run.dir={run_dir}"]
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
        (run_dir / "wall_seconds").write_text(f"{time.perf_counter() - start}\n")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    wall = float((run_dir / "wall_seconds").read_text())
    return {"seed": seed, "acc": metrics["test/acc"], "wall_seconds": wall}


def run_peer(data: str, k: int, seed: int, folder: Path) -> dict:
    result = folder / f"peer-{seed}.json"
    if not result.is_file():
        command = [sys.executable, __file__, "--worker", "--data", data, "--k", str(k)]
        command += ["--model", MODEL[0]]
        command += ["--seeds", str(seed), "--json", str(result)]
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
        found = json.loads(result.read_text())
        found["wall_seconds"] = time.perf_counter() - start
        result.write_text(json.dumps(found) + "\n")
    return json.loads(result.read_text())


def worker(args) -> None:
    """The setfit library on tunelab's K-shot sample of `--data` for one seed."""
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    from tunelab.config import CONFIG_DIR, build

    seed = args.seeds[0]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        overrides = [f"data={args.data}", f"data.k_shot={args.k}", f"seed={seed}"]
        cfg = compose("train", [*overrides, f"model={args.model}"])
    with open_dict(cfg):
        cfg.paths.output_dir = str(ROOT / "outputs")
    datamodule = build(cfg.data)
    train, test = datamodule.examples("train"), datamodule.examples(datamodule.loader.test_split)

    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from tunelab.data.registry import resolve_model

    model = SetFitModel.from_pretrained(resolve_model(cfg.model.model_name_or_path))
    scratch = tempfile.mkdtemp(prefix="setfit-peer-")  # its checkpoints, never in the checkout
    trainer = Trainer(
        model=model,
        args=TrainingArguments(output_dir=scratch, seed=seed, report_to="none"),
        train_dataset=Dataset.from_dict(
            {"text": [e.text for e in train], "label": [e.label for e in train]}
        ),
    )
    trainer.train()
    predicted = model.predict([e.text for e in test], as_numpy=True)
    acc = sum(p == e.label for p, e in zip(predicted, test, strict=True)) / len(test)
    Path(args.json).write_text(json.dumps({"seed": seed, "acc": float(acc)}) + "\n")


def summary(runs: list[dict]) -> dict:
    accs = [r["acc"] for r in runs]
    walls = [r["wall_seconds"] for r in runs]
    return {
        "acc_mean": statistics.fmean(accs),
        "acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
        "wall_mean": statistics.fmean(walls),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sst2")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--sides", nargs="+", default=["tunelab", "peer", "head"])
    parser.add_argument("--overrides", nargs="*", default=[], help="tunelab sides: more overrides")
    parser.add_argument("--model", default="minilm", help="the model preset (conf/model/)")
    parser.add_argument("--prompt-model", help="prompt side: the masked LM to start from")
    parser.add_argument("--name", help="folder under outputs/few_shot_benchmark (a variant)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    PROMPT_MODEL.append(args.prompt_model)
    MODEL[0] = args.model
    name = args.name or f"{args.data}-k{args.k}"
    folder = ROOT / "outputs" / "few_shot_benchmark" / name
    folder.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {side: [] for side in args.sides}
    for seed in args.seeds:  # seeds outermost: a slow spell of the machine hits every side
        for side in args.sides:
            if side == "peer":
                run = run_peer(args.data, args.k, seed, folder)
            else:
                run = run_tunelab(side, args.data, args.k, seed, folder, args.overrides)
            runs[side].append(run)
            print(json.dumps({side: run}), flush=True)
    results = {"data": args.data, "k": args.k, "model": args.model, "overrides": args.overrides}
    results.update({side: summary(side_runs) for side, side_runs in runs.items()})
    for side in args.sides:
        s = results[side]
        print(
            f"{side}: acc {100 * s['acc_mean']:.2f} ± {100 * s['acc_std']:.2f}, "
            f"{s['wall_mean']:.1f} s a run"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
