"""Training and evaluation speed of tunelab against the plain Hugging Face Trainer recipe.

Runs, one after the other in separate processes on this machine: the plain recipe (first-subword
labels, DataCollatorForTokenClassification, default Trainer settings) in fp32 and with its bf16
flag, `peer_tuned` (the Trainer's own speed options, `--tuned`, in the precision tunelab picks
on this machine; `peer+OPTION` and `peer_bf16+OPTION` measure one), then tunelab with its
defaults; all on the same CoNLL-2003 files, model, epochs, batch size, learning rate and
warm-up. Prints a markdown table; `--json FILE` writes every figure.

Each side runs once per seed (`--seeds`) and the table gives the means. `--quick` runs three seeds:
after its ~100 optimizer steps test F1 moves by several points from seed to seed, on both sides,
so one seed cannot tell a 0.3-point difference from noise.

    .venv/bin/python scripts/benchmark.py --quick --json outputs/bench_quick.json   # minutes
    .venv/bin/python scripts/benchmark.py --json outputs/bench_full.json            # 1 epoch, full
    .venv/bin/python scripts/benchmark.py --task classification --data rotten_tomatoes

`--task classification` does the same for text classification on a preset (the Trainer side:
AutoModelForSequenceClassification, DataCollatorWithPadding, texts cut at 512 sub-tokens).

`--to-quality 0.88` measures instead each side's training time until its dev F1 first reaches
0.88 (`scripts/to_quality.py`; NER on CoNLL-2003, at most `--epochs`, dev scored every
`--eval-every` steps):

    .venv/bin/python scripts/benchmark.py --to-quality 0.88 --epochs 3 --json outputs/ttq.json

Words/s count the words of the split (not sub-tokens, not padding); model FLOPs utilisation (MFU)
is 6 x non-embedding parameters x real sub-tokens per second of training, over the matrix-product
rate this machine measures in bf16 (and in fp32, for the fp32 run).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tunelab.speed.precision import cpu_info, default_precision
from tunelab.training.rundir import markdown_table

ROOT = Path(__file__).resolve().parents[1]
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
QUICK_SENTENCES = {"train": 3000, "dev": 500, "test": 1000}  # the first N of each split
DOCUMENT_WORDS = 400  # --documents: training inputs of about 500 sub-tokens
# The scores each task reports, the first the headline (--task).
SCORES = {"ner": ("test_f1", "test_f1_strict"), "classification": ("test_acc", "test_f1_macro")}
CLASSIFICATION_MAX_LENGTH = 512  # the classification presets' data.max_length


def matmul_gflops(dtype_name: str, seconds: float = 3.0) -> float:
    """Matrix-product rate at the model's shapes (batch x tokens, hidden 384, inner 1536)."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(2048, 384, dtype=dtype), torch.randn(384, 1536, dtype=dtype)
    for _ in range(10):
        a @ b
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        done += 1
    return 2 * 2048 * 384 * 1536 * done / (time.perf_counter() - start) / 1e9


def write_subset(source: Path, target: Path, train: int | None = None, documents=False) -> None:
    """The first sentences of each split, as CoNLL files (documents kept as they come); `train`:
    that many training sentences instead; `documents`: each training document's sentences
    joined into long inputs (the first `train` of them), for the scale table."""
    from tunelab.data.splits import find_split_file

    target.mkdir(parents=True, exist_ok=True)
    for split, count in QUICK_SENTENCES.items():
        blocks = find_split_file(str(source), split).read_text().split("\n\n")
        blocks = [b.strip("\n") for b in blocks if b.strip()]
        if split == "train" and documents:
            blocks = joined_documents(blocks)
        count = train if split == "train" and train else count
        (target / f"{split}.txt").write_text("\n\n".join(blocks[: count + 1]) + "\n")


def joined_documents(blocks: list[str], words: int = DOCUMENT_WORDS) -> list[str]:
    """Consecutive CoNLL sentence blocks joined into inputs of up to `words` words (about 500
    sub-tokens for this tokenizer; the files carry no document marks to cut at)."""
    joined: list[list[str]] = [[]]
    for block in blocks:
        lines = block.splitlines()
        if joined[-1] and len(joined[-1]) + len(lines) > words:
            joined.append([])
        joined[-1] += lines
    return ["\n".join(lines) for lines in joined if lines]


def padding_share(loader) -> float:
    """Share of the training batches' positions that are padding (one pass, not timed)."""
    real = total = 0
    for batch in loader:
        packed = batch.get("packed_segments")  # tunelab's packed rows: 0 marks padding
        mask = batch["attention_mask"] if packed is None else packed > 0
        real += int(mask.sum())
        total += mask.numel()
    return 1 - real / total


def non_embedding_params(model) -> int:
    embeddings = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    return sum(p.numel() for p in model.parameters()) - embeddings


# The Trainer's own speed options a user who knows it would turn on (issue 24), on top of bf16.
# `group_by_length`: length-grouped batches (less padding); `torch_compile`: the inductor backend.
# DataCollatorWithFlattening is left out: BERT-style models in transformers keep sequences apart
# in a flattened row only with flash-attention kernels (GPU), so on CPU it would mix sentences.
TUNED_OPTIONS = ("group_by_length", "torch_compile")
# Not yet chosen by measurement: run the peer_bf16+OPTION sides, then set the fastest that keeps F1.
TUNED_DEFAULT = ["group_by_length"]


def peer_options(side: str, tuned: list[str]) -> tuple[bool, list[str]]:
    """(bf16, Trainer options) of a peer side: `peer` (fp32), `peer_bf16`, `peer_tuned` (`--tuned`
    in the precision tunelab's default picks on this machine: a user who knows the Trainer turns
    bf16 on only where it is faster), or `peer+OPTION+...` / `peer_bf16+OPTION+...` to measure
    options one at a time."""
    if side == "peer_tuned":
        return default_precision() == "bf16-mixed", list(tuned)
    base, *options = side.split("+")
    unknown = [o for o in options if o not in TUNED_OPTIONS]
    if base not in ("peer", "peer_bf16") or unknown:
        raise SystemExit(f"unknown side {side!r}; options: {', '.join(TUNED_OPTIONS)}")
    return base == "peer_bf16", options


def cpu_kind() -> dict:
    """The CPU's model name and which bf16 matrix units it has (from /proc/cpuinfo)."""
    info = cpu_info()
    flags = set(info.get("flags", "").split())
    return {
        "model": info.get("model name", ""),
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
    }


def training_arguments(output_dir: str, bf16: bool, options, args):
    """The peer's Trainer settings: tunelab's recipe (epochs, batch 32, lr 1e-4, warm-up 10%,
    weight decay 0.01), bf16 and the speed options asked for."""
    import torch
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=32,
        per_device_eval_batch_size=64,
        learning_rate=1e-4,
        weight_decay=0.01,
        warmup_steps=0.1,  # a ratio in transformers 5
        bf16=bf16,
        # transformers 5 spells group_by_length as a sampling strategy
        train_sampling_strategy="group_by_length" if "group_by_length" in options else "random",
        torch_compile="torch_compile" in options,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        seed=args.seed,
        use_cpu=not torch.cuda.is_available(),
    )


def run_trainer(model, collator, train_set, test_set, bf16: bool, options, args) -> dict:
    """Train and predict with the Hugging Face Trainer, timing each; the test rows come back in
    the order of `test_set`."""
    import numpy as np
    from transformers import Trainer

    with tempfile.TemporaryDirectory() as output_dir:
        trainer = Trainer(
            model=model,
            args=training_arguments(output_dir, bf16, options, args),
            train_dataset=train_set,
            data_collator=collator,
        )
        padding = padding_share(trainer.get_train_dataloader())
        start = time.perf_counter()
        trainer.train()
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        output = trainer.predict(test_set)
        eval_seconds = time.perf_counter() - start
        # With group_by_length the Trainer also groups the test set (a seeded sampler): the rows
        # come back in the sampler's order, which is drawn again here to put them back.
        order = list(trainer._get_eval_sampler(test_set) or range(len(test_set)))
    back = np.argsort(order)
    return {
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "predictions": np.asarray(output.predictions)[back],
        "train_padding": padding,
        "non_embedding_params": non_embedding_params(model),
        "options": ["bf16", *options] if bf16 else list(options),
    }


def ner_sets(data_dir: str, splits: tuple[str, ...]):
    """The plain NER recipe's data: first-subword labels (-100 elsewhere), as `run_ner.py`
    encodes them. Returns (labels, tokenizer, sentences per split, {split: (items, tokens)})."""
    from transformers import AutoTokenizer

    from tunelab.data.registry import resolve_model
    from tunelab.data.schemes import split_tag
    from tunelab.data.splits import load_ner_splits
    from tunelab.tasks.ner.datamodule import labels_from_types

    data = load_ner_splits(list(splits), directory=data_dir).sentences
    labels = labels_from_types({split_tag(t)[1] for s in data["train"] for t in s.tags} - {""})
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(MODEL))

    def encode(sentences):
        enc = tokenizer([s.words for s in sentences], is_split_into_words=True, truncation=True)
        items = []
        for i, sentence in enumerate(sentences):
            previous, row = None, []
            for word in enc.word_ids(i):
                first = word is not None and word != previous
                row.append(label2id[sentence.tags[word]] if first else -100)
                previous = word
            items.append({"input_ids": enc["input_ids"][i], "labels": row})
        return items, sum(len(x) for x in enc["input_ids"])

    return labels, tokenizer, data, {split: encode(data[split]) for split in splits}


def ner_tags(labels: list[str], sentences, items, logits) -> tuple[list, list]:
    """Gold and predicted tags of each sentence from first-subword logits; words cut by
    truncation get O."""
    import numpy as np

    gold, pred = [], []
    for sentence, item, ids in zip(sentences, items, np.argmax(logits, -1), strict=True):
        tags = [labels[p] for label, p in zip(item["labels"], ids, strict=False) if label != -100]
        tags += ["O"] * (len(sentence.words) - len(tags))
        gold.append(sentence.tags)
        pred.append(tags)
    return gold, pred


def peer_model(labels: list[str]):
    from transformers import AutoModelForTokenClassification

    from tunelab.data.registry import resolve_model

    return AutoModelForTokenClassification.from_pretrained(
        resolve_model(MODEL),
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )


def peer(data_dir: str, bf16: bool, args, options: tuple[str, ...] = ()) -> dict:
    """The plain NER recipe, written the standard way; `options`: Trainer speed options on top."""
    from transformers import DataCollatorForTokenClassification, set_seed

    from tunelab.tasks.ner.metrics import ner_scores

    labels, tokenizer, data, encoded = ner_sets(data_dir, ("train", "test"))
    (train_set, train_tokens), (test_set, _) = encoded["train"], encoded["test"]
    set_seed(args.seed)
    model = peer_model(labels)
    collator = DataCollatorForTokenClassification(tokenizer)
    result = run_trainer(model, collator, train_set, test_set, bf16, options, args)
    gold, pred = ner_tags(labels, data["test"], test_set, result.pop("predictions"))
    scores = ner_scores(gold, pred)
    return {
        **result,
        "train_words": args.epochs * sum(len(s.words) for s in data["train"]),
        "eval_words": sum(len(s.words) for s in data["test"]),
        "train_tokens": args.epochs * train_tokens,
        "test_f1": scores["f1"],
        "test_f1_strict": scores["f1_strict"],
    }


def peer_classification(preset: str, bf16: bool, args, options: tuple[str, ...] = ()) -> dict:
    """The plain text-classification recipe (`hf_peer_classification.py`'s data and model)."""
    from hf_peer_classification import load
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        set_seed,
    )

    from tunelab.data.registry import resolve_model

    path = resolve_model(MODEL)
    tokenizer = AutoTokenizer.from_pretrained(path)
    (train_texts, train_labels), (test_texts, test_labels) = (
        load(preset, "train"),
        load(preset, "test"),
    )
    labels = sorted(set(train_labels))
    label2id = {label: i for i, label in enumerate(labels)}

    def encode(texts, gold):
        enc = tokenizer(texts, truncation=True, max_length=CLASSIFICATION_MAX_LENGTH)
        return [
            {"input_ids": ids, "labels": label2id[y]}
            for ids, y in zip(enc["input_ids"], gold, strict=True)
        ]

    train_set, test_set = encode(train_texts, train_labels), encode(test_texts, test_labels)
    set_seed(args.seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id
    )
    collator = DataCollatorWithPadding(tokenizer)
    result = run_trainer(model, collator, train_set, test_set, bf16, options, args)
    pred = result.pop("predictions").argmax(-1)
    gold = [item["labels"] for item in test_set]
    return {
        **result,
        "train_words": args.epochs * sum(len(t.split()) for t in train_texts),
        "eval_words": sum(len(t.split()) for t in test_texts),
        "train_tokens": args.epochs * sum(len(x["input_ids"]) for x in train_set),
        "test_acc": float(accuracy_score(gold, pred)),
        "test_f1_macro": float(f1_score(gold, pred, average="macro")),
    }


def tunelab_parts(data_dir: str, args):
    """tunelab's config with its defaults (and `--overrides`), its DataModule (set up) and
    module, as `tunelab train` builds them."""
    import pytorch_lightning as pl
    from hydra import compose, initialize_config_dir

    from tunelab.config import CONFIG_DIR
    from tunelab.training.train import build_data_and_model

    classify = args.task == "classification"
    data = [f"data={args.data}"] if classify else ["data=conll", f"data.dir={data_dir}"]
    overrides = [*data, f"trainer.max_epochs={args.epochs}", f"seed={args.seed}", *args.overrides]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    pl.seed_everything(cfg.seed)
    datamodule, model = build_data_and_model(cfg)
    datamodule.setup("fit")
    datamodule.setup("test")
    return cfg, datamodule, model


def tunelab(data_dir: str, args) -> dict:
    """tunelab with its defaults: the training loop timed without validation, then the test."""
    from tunelab.config import build

    classify = args.task == "classification"
    cfg, datamodule, model = tunelab_parts(data_dir, args)
    trainer = build(
        cfg.trainer,
        logger=False,
        callbacks=[],
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        default_root_dir=tempfile.mkdtemp(),
    )
    padding = padding_share(datamodule.train_dataloader())
    start = time.perf_counter()
    trainer.fit(model, datamodule=datamodule)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    trainer.test(model, datamodule=datamodule, verbose=False)
    eval_seconds = time.perf_counter() - start
    test = model.evaluation("test").scores
    if classify:
        texts = {split: datamodule.raw_texts(split) for split in ("train", "test")}
        words = {split: sum(len(t.split()) for t in texts[split]) for split in texts}
        scores = {"test_acc": test["test/acc"], "test_f1_macro": test["test/f1_macro"]}
    else:
        words = {s: sum(len(x.words) for x in datamodule.sentences(s)) for s in ("train", "test")}
        scores = {"test_f1": test["test/f1"], "test_f1_strict": test["test/f1_strict"]}
    return {
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "train_words": args.epochs * words["train"],
        "eval_words": words["test"],
        "train_tokens": args.epochs * sum(len(x["input_ids"]) for x in datamodule.encoded("train")),
        "non_embedding_params": non_embedding_params(model.model),
        "train_padding": padding,
        **scores,
        "precision": str(cfg.trainer.precision),
    }


def worker(args) -> None:
    if args.to_quality is not None:
        from to_quality import run_side

        Path(args.result).write_text(json.dumps(run_side(args.data_dir, args.worker, args)))
        return
    if args.worker == "tunelab":
        result = tunelab(args.data_dir, args)
    else:
        bf16, options = peer_options(args.worker, args.tuned)
        if args.task == "classification":
            result = peer_classification(args.data, bf16, args, tuple(options))
        else:
            result = peer(args.data_dir, bf16, args, tuple(options))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.result).write_text(json.dumps(result))


def summarise(result: dict, gflops: dict, bf16: bool, task: str) -> dict:
    flops = 6 * result["non_embedding_params"] * result["train_tokens"] / result["train_seconds"]
    peak = gflops["bf16" if bf16 else "fp32"]
    return {
        "train_words_per_s": result["train_words"] / result["train_seconds"],
        "eval_words_per_s": result["eval_words"] / result["eval_seconds"],
        "peak_rss_mb": result["peak_rss_mb"],
        **{k: result[k] for k in SCORES[task]},
        "train_gflops": flops / 1e9,
        "mfu": flops / 1e9 / peak,
        "mfu_of": "bf16" if bf16 else "fp32",
        **{
            k: result[k]
            for k in ("train_padding", "train_seconds", "eval_seconds", "train_words", "eval_words")
        },
    }


def average(runs: list[dict], task: str) -> dict:
    """Means over seeds (peak memory: the highest), with the first score's standard deviation."""
    numbers = [k for k, v in runs[0].items() if isinstance(v, int | float) and k != "seed"]
    mean = {k: statistics.fmean(r[k] for r in runs) for k in numbers}
    mean["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    mean["mfu_of"] = runs[0]["mfu_of"]
    score = SCORES[task][0]
    values = [r[score] for r in runs]
    mean[f"{score}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the first sentences of each split")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="one run per seed and side, figures averaged (default: 42 43 44 with --quick, where "
        "F1 after ~100 steps moves by points from seed to seed; else 42)",
    )
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared/datasets/conll2003"))
    parser.add_argument(
        "--task",
        choices=sorted(SCORES),
        default="ner",
        help="classification: text classification on --data instead of NER on CoNLL-2003",
    )
    parser.add_argument(
        "--data",
        default="rotten_tomatoes",
        help="--task classification: the preset (rotten_tomatoes, sst2, bbc_news)",
    )
    parser.add_argument(
        "--sides", nargs="+", default=["peer", "peer_bf16", "peer_tuned", "tunelab"]
    )
    parser.add_argument(
        "--train-sentences",
        type=int,
        help="the scale table: the first N training sentences (documents with --documents); "
        "dev and test as in --quick",
    )
    parser.add_argument(
        "--documents",
        action="store_true",
        help=f"train on inputs of consecutive sentences up to {DOCUMENT_WORDS} words",
    )
    parser.add_argument("--json", help="write all results here")
    parser.add_argument(
        "--tuned",
        nargs="*",
        default=TUNED_DEFAULT,
        help="the Trainer options of peer_tuned, in tunelab's default precision "
        f"(of {', '.join(TUNED_OPTIONS)})",
    )
    parser.add_argument(
        "--overrides", nargs="*", default=[], help="Hydra overrides of the tunelab side (ablations)"
    )
    parser.add_argument(
        "--to-quality",
        type=float,
        help="time each side's training until its dev F1 first reaches this (NER)",
    )
    parser.add_argument("--eval-every", type=int, default=100, help="--to-quality: steps")
    parser.add_argument("--seed", type=int, default=42, help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.to_quality is not None:
        return to_quality_main(args)

    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.data_dir
        subsets = args.quick or args.train_sentences or args.documents
        if subsets and args.task == "classification":
            raise SystemExit("--quick, --train-sentences and --documents are for --task ner")
        if subsets:
            data_dir = str(Path(scratch) / "conll_subset")
            write_subset(Path(args.data_dir), Path(data_dir), args.train_sentences, args.documents)
        gflops = {"fp32": matmul_gflops("float32"), "bf16": matmul_gflops("bfloat16")}
        print(f"matrix products: fp32 {gflops['fp32']:.0f} GFLOP/s, bf16 {gflops['bf16']:.0f}")
        results = {"machine_gflops": gflops, "quick": args.quick, "epochs": args.epochs}
        results |= {"train_sentences": args.train_sentences, "documents": args.documents}
        results["cpu"] = cpu_kind()
        tuned_bf16, _ = peer_options("peer_tuned", args.tuned)
        results["peer_tuned_options"] = ["bf16"] * tuned_bf16 + args.tuned
        print(f"cpu: {results['cpu']}")
        results["tunelab_overrides"] = args.overrides
        seeds = args.seeds or ([42, 43, 44] if args.quick else [42])
        results["seeds"] = seeds
        runs: dict[str, list[dict]] = {side: [] for side in args.sides}
        # Seeds outermost: a slow spell of the machine hits every side alike.
        for seed in seeds:
            for side in args.sides:
                result_file = Path(scratch) / f"{side}-{seed}.json"
                command = [sys.executable, __file__, "--worker", side, "--data-dir", data_dir]
                command += ["--result", str(result_file), "--epochs", str(args.epochs)]
                command += ["--seed", str(seed), "--tuned", *args.tuned]
                command += ["--task", args.task, "--data", args.data]
                command += ["--overrides", *args.overrides]
                subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                raw = json.loads(result_file.read_text())
                bf16 = "bf16" in raw.get("options", []) or raw.get("precision", "").startswith(
                    "bf16"
                )
                runs[side].append({"seed": seed, **summarise(raw, gflops, bf16, args.task)})
                print(json.dumps({side: runs[side][-1]}), flush=True)
        for side in args.sides:
            results[side] = {**average(runs[side], args.task), "runs": runs[side]}

    subset = "quick subset" if args.quick else "full CoNLL-2003"
    if args.task == "classification":
        subset = args.data
    if args.train_sentences or args.documents:
        unit = "documents" if args.documents else "sentences"
        subset = f"the first {args.train_sentences or 'all'} training {unit}, quick test split"
    print(f"\n{subset}, {args.epochs} epoch(s), mean of seeds {' '.join(map(str, seeds))}\n")
    if args.overrides:
        print(f"tunelab overrides: {' '.join(args.overrides)}\n")
    score, second = SCORES[args.task]
    names = {"ner": ["test F1", "strict F1"], "classification": ["test acc", "macro F1"]}
    header = ["side", "train words/s", "eval words/s", "peak RSS", *names[args.task], "MFU"]
    header.append("padding")
    rows = [
        [
            side,
            f"{r['train_words_per_s']:.0f}",
            f"{r['eval_words_per_s']:.0f}",
            f"{r['peak_rss_mb'] / 1024:.2f} GB",
            f"{r[score]:.4f}" + (f" ± {r[score + '_std']:.4f}" if len(seeds) > 1 else ""),
            f"{r[second]:.4f}",
            f"{100 * r['mfu']:.0f}% of {r['mfu_of']}",
            f"{100 * r['train_padding']:.0f}%",
        ]
        for side, r in ((side, results[side]) for side in args.sides)
    ]
    print(markdown_table(header, rows))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def to_quality_main(args) -> None:
    """Each side once (`--seed`), one after the other, to `--to-quality` dev F1."""
    from to_quality import table

    if args.task != "ner":
        raise SystemExit("--to-quality measures NER on CoNLL-2003")
    results = {"cpu": cpu_kind(), "target": args.to_quality, "epochs": args.epochs}
    results["eval_every"], sides = args.eval_every, {}
    print(f"cpu: {results['cpu']}")
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.data_dir
        if args.quick:
            data_dir = str(Path(scratch) / "conll_subset")
            write_subset(Path(args.data_dir), Path(data_dir))
        for side in args.sides:
            result_file = Path(scratch) / f"{side}.json"
            command = [sys.executable, __file__, "--worker", side, "--data-dir", data_dir]
            command += ["--result", str(result_file), "--epochs", str(args.epochs)]
            command += ["--seed", str(args.seed), "--tuned", *args.tuned]
            command += ["--to-quality", str(args.to_quality), "--eval-every", str(args.eval_every)]
            command += ["--overrides", *args.overrides]
            # a side that crashes (e.g. torch.compile without a working compiler) is reported
            # as failed; the others still run, and the JSON is written after every side
            done = subprocess.run(command, cwd=ROOT)
            failed = {"failed": f"exit {done.returncode}", "reached": None}
            sides[side] = json.loads(result_file.read_text()) if done.returncode == 0 else failed
            results["sides"] = sides
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=2))
    header, rows = table(sides, args.to_quality, args.epochs)
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
