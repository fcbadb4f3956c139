"""Time to quality (`scripts/benchmark.py --to-quality F1`): how long each side trains on CoNLL-2003
until its dev F1 first reaches the target.

Each side (tunelab with its defaults; the plain Hugging Face Trainer recipe in fp32, with bf16,
and with its speed options) trains for at most `--epochs`, scores the dev split every
`--eval-every` optimizer steps, and stops at the first score at or above the target. Reported: the
training seconds until then (evaluation time left out, and reported apart), the steps, the dev F1
reached and the test F1 of the weights at that point; a side that never gets there says so.
"""

from __future__ import annotations

import tempfile
import time

from benchmark import (
    ner_sets,
    ner_tags,
    peer_model,
    peer_options,
    training_arguments,
    tunelab_parts,
)


class Clock:
    """Training seconds with the evaluations taken out, and the first point at the target."""

    def __init__(self, target: float) -> None:
        self.target, self.start, self.evaluating = target, time.perf_counter(), 0.0
        self.history: list[dict] = []
        self.reached: dict | None = None

    def score(self, step: int, evaluate) -> bool:
        """Evaluate (untimed), note the point; True once the target is reached."""
        began = time.perf_counter()
        f1 = evaluate()
        self.evaluating += time.perf_counter() - began
        seconds = time.perf_counter() - self.start - self.evaluating
        point = {"step": step, "dev_f1": f1, "train_seconds": seconds}
        self.history.append(point)
        print(f"step {step}: dev F1 {f1:.4f} after {seconds:.0f} s of training", flush=True)
        if self.reached is None and f1 >= self.target:
            self.reached = point
        return self.reached is not None

    def result(self) -> dict:
        return {"reached": self.reached, "eval_seconds": self.evaluating, "history": self.history}


def tunelab_side(data_dir: str, args) -> dict:
    import pytorch_lightning as pl

    from tunelab.config import build

    cfg, datamodule, model = tunelab_parts(data_dir, args)
    clock = Clock(args.to_quality)

    class AtQuality(pl.Callback):
        def on_validation_end(self, trainer, module):
            f1 = module.evaluation("val").scores["val/f1"]
            if clock.score(trainer.global_step, lambda: f1):
                trainer.should_stop = True

    # the validation pass itself is timed by Lightning's hooks around it: taken out below
    class EvalTime(pl.Callback):
        def on_validation_start(self, trainer, module):
            self.began = time.perf_counter()

        def on_validation_end(self, trainer, module):
            clock.evaluating += time.perf_counter() - self.began

    trainer = build(
        cfg.trainer,
        logger=False,
        callbacks=[EvalTime(), AtQuality()],
        enable_checkpointing=False,
        enable_progress_bar=False,
        val_check_interval=args.eval_every,
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        default_root_dir=tempfile.mkdtemp(),
    )
    clock.start = time.perf_counter()
    trainer.fit(model, datamodule=datamodule)
    found = clock.result()
    if found["reached"]:
        trainer.test(model, datamodule=datamodule, verbose=False)
        found["test_f1"] = model.evaluation("test").scores["test/f1"]
    return found


def peer_side(data_dir: str, side: str, args) -> dict:
    import torch
    from transformers import DataCollatorForTokenClassification, Trainer, TrainerCallback, set_seed

    from tunelab.tasks.ner.metrics import ner_scores

    bf16, options = peer_options(side, args.tuned)
    labels, tokenizer, data, encoded = ner_sets(data_dir, ("train", "dev", "test"))
    collator = DataCollatorForTokenClassification(tokenizer)
    set_seed(args.seed)
    model = peer_model(labels)
    clock = Clock(args.to_quality)

    def f1_on(split: str, network) -> float:
        items = encoded[split][0]
        loader = torch.utils.data.DataLoader(items, batch_size=64, collate_fn=collator)
        logits = []
        was_training = network.training
        network.eval()
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            for batch in loader:
                batch.pop("labels")
                out = network(**batch).logits.float()
                logits += [row for row in out]  # rows padded to their batch's length
        network.train(was_training)
        width = max(len(row) for row in logits)
        padded = torch.zeros(len(logits), width, len(labels))
        for i, row in enumerate(logits):
            padded[i, : len(row)] = row
        return ner_scores(*ner_tags(labels, data[split], items, padded.numpy()))["f1"]

    class AtQuality(TrainerCallback):
        def on_step_end(self, arguments, state, control, model=None, **kwargs):
            if state.global_step % args.eval_every == 0:
                if clock.score(state.global_step, lambda: f1_on("dev", model)):
                    control.should_training_stop = True

    with tempfile.TemporaryDirectory() as output_dir:
        trainer = Trainer(
            model=model,
            args=training_arguments(output_dir, bf16, options, args),
            train_dataset=encoded["train"][0],
            data_collator=collator,
            callbacks=[AtQuality()],
        )
        clock.start = time.perf_counter()
        trainer.train()
    found = clock.result()
    if found["reached"]:
        found["test_f1"] = f1_on("test", trainer.model)
    return found


def run_side(data_dir: str, side: str, args) -> dict:
    if side == "tunelab":
        return tunelab_side(data_dir, args)
    return peer_side(data_dir, side, args)


def table(results: dict, target: float, epochs: int) -> tuple[list[str], list[list]]:
    """Markdown rows: each side's time to the target, and how many times the fastest peer's."""
    reached = {s: r["reached"] for s, r in results.items() if r["reached"]}
    peers = [r["train_seconds"] for s, r in reached.items() if s != "tunelab"]
    fastest_peer = min(peers) if peers else None
    header = [
        "side",
        f"train s to dev F1 {target}",
        "steps",
        "dev F1",
        "test F1",
        "eval s",
        "fastest peer / side",
    ]
    rows = []
    for side, result in results.items():
        point = result["reached"]
        if "failed" in result:
            rows.append([side, f"failed ({result['failed']})", "", "", "", "", ""])
            continue
        if point is None:
            rows.append([side, f"not reached in {epochs} epoch(s)", "", "", "", "", ""])
            continue
        ratio = f"{fastest_peer / point['train_seconds']:.2f}x" if fastest_peer else ""
        rows.append(
            [
                side,
                f"{point['train_seconds']:.0f}",
                point["step"],
                f"{point['dev_f1']:.4f}",
                f"{result['test_f1']:.4f}",
                f"{result['eval_seconds']:.0f}",
                ratio,
            ]
        )
    return header, rows
