"""Where one NER training step's time goes: a plain PyTorch loop over tunelab's batches.

Times data, forward, backward, gradient clipping and the optimizer step, per step, on the quick
CoNLL-2003 subset of `benchmark.py`, in tunelab's default precision for this machine (bf16
autocast where bf16 is timed faster; `--precision` to choose). The variants behind
docs/benchmarks.md:

    .venv/bin/python scripts/profile_step.py --no-pack --unfused    # random batches, for-loop AdamW
    .venv/bin/python scripts/profile_step.py --no-pack --group 50  # length-grouped batches
    .venv/bin/python scripts/profile_step.py                       # tunelab's defaults (packed)
    .venv/bin/python scripts/profile_step.py --compile             # torch.compile(dynamic=True)
    .venv/bin/python scripts/profile_step.py --freeze-embeddings   # word embeddings not trained
    .venv/bin/python scripts/profile_step.py --attention-dropout 0
    .venv/bin/python scripts/profile_step.py --torch-dropout       # PyTorch's dropout modules
    .venv/bin/python scripts/profile_step.py --ops 25              # the 25 costliest operators
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from benchmark import MODEL, ROOT, write_subset
from transformers import AutoModelForTokenClassification

from tunelab.data.registry import from_pretrained
from tunelab.models.optim import parameter_groups
from tunelab.speed.cpu_memory import keep_freed_memory, limit_kernel_cache
from tunelab.speed.dropout import use_fast_dropout
from tunelab.speed.precision import default_precision
from tunelab.tasks.ner.datamodule import TokenClassificationDataModule
from tunelab.tasks.ner.module import TokenClassificationModule

PHASES = ("data", "forward", "backward", "clip", "optimizer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", type=int, default=0, help="data.group_by_length")
    parser.add_argument("--no-pack", action="store_true", help="data.pack=false")
    parser.add_argument("--unfused", action="store_true", help="for-loop AdamW")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--attention-dropout", type=float, default=0.1)
    parser.add_argument(
        "--torch-dropout", action="store_true", help="PyTorch's dropout modules, not tunelab's"
    )
    parser.add_argument("--steps", type=int, default=80, help="the first 5 are not timed")
    parser.add_argument(
        "--precision", choices=["bf16-mixed", "32-true"], help="default: tunelab's for this machine"
    )
    parser.add_argument(
        "--ops", type=int, default=0, help="also list the N operators with most self CPU time"
    )
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared/datasets/conll2003"))
    args = parser.parse_args()

    limit_kernel_cache()  # as tunelab's TaskModule.on_fit_start does on CPU
    keep_freed_memory()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as scratch:
        write_subset(Path(args.data_dir), Path(scratch))
        data = TokenClassificationDataModule.from_config(
            MODEL, dir=scratch, group_by_length=args.group, pack=not args.no_pack
        )
        data.setup("fit")
        batches = iter(data.train_dataloader())
        module = TokenClassificationModule(MODEL, data.labels)
        model = from_pretrained(
            AutoModelForTokenClassification,
            MODEL,
            num_labels=len(data.labels),
            attention_probs_dropout_prob=args.attention_dropout,
        )
        module.model = (model if args.torch_dropout else use_fast_dropout(model)).train()
        model = module.model
        if args.freeze_embeddings:
            model.get_input_embeddings().weight.requires_grad_(False)
        optimizer = torch.optim.AdamW(
            parameter_groups(model, 0.01), lr=1e-4, fused=not args.unfused
        )
        if args.compile:
            module.model = torch.compile(model, dynamic=True)
        bf16 = (args.precision or default_precision()) == "bf16-mixed"
        spent = dict.fromkeys(PHASES, 0.0)
        words = real = total = 0
        profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
        for step in range(args.steps):
            if args.ops and step == 5:
                profiler.start()
            marks = [time.perf_counter()]
            batch = next(batches)
            marks.append(time.perf_counter())
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = module.training_step(batch, step)
            marks.append(time.perf_counter())
            loss.backward()
            marks.append(time.perf_counter())
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            marks.append(time.perf_counter())
            optimizer.step()
            optimizer.zero_grad()
            marks.append(time.perf_counter())
            if step < 5:  # warm-up (and compilation)
                continue
            for phase, start, end in zip(PHASES, marks[:-1], marks[1:], strict=True):
                spent[phase] += end - start
            words += int((batch["labels"] != -100).sum())
            packed = batch.get("packed_segments")  # 0 marks padding
            mask = batch["attention_mask"] if packed is None else packed > 0
            real += int(mask.sum())
            total += mask.numel()
        if args.ops:
            profiler.stop()
    timed = args.steps - 5
    seconds = sum(spent.values())
    print(vars(args))
    if args.ops:
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.ops))
    print(" ".join(f"{p} {1000 * s / timed:.1f} ms" for p, s in spent.items()))
    print(
        f"step {1000 * seconds / timed:.1f} ms, {words / seconds:.0f} words/s, "
        f"padding {100 * (1 - real / total):.0f}%"
    )


if __name__ == "__main__":
    main()
