"""The plain Hugging Face Trainer recipe for text classification, as a peer for tunelab.

Same model, same splits (read with tunelab's readers), same epochs, batch size, learning rate,
warm-up and weight decay; everything else is the Trainer's default: random batches, truncation
at max_length, DataCollatorWithPadding, AdamW, linear decay.

    .venv/bin/python scripts/hf_peer_classification.py --data rotten_tomatoes --epochs 2 --bf16
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
    set_seed,
)

from tunelab.data.registry import resolve_model
from tunelab.data.text_splits import load_examples

DATA = {
    "rotten_tomatoes": {"corpus": "rotten_tomatoes"},
    "bbc_news": {"corpus": "bbc_news"},
    "sst2": {
        "directory": "../shared/datasets/sst2",
        "text_column": ["sentence", "content"],
        "names": {"0": "negative", "1": "positive"},
    },
}


def load(name: str, split: str):
    spec = dict(DATA[name])
    names = spec.pop("names", {})
    examples = load_examples(split, **spec)
    return [e.text for e in examples], [names.get(e.label, e.label) for e in examples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(DATA), required=True)
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    path = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    train_texts, train_labels = load(args.data, "train")
    labels = sorted(set(train_labels))
    label2id = {label: i for i, label in enumerate(labels)}

    def encode(split: str) -> list[dict]:
        texts, gold = load(args.data, split)
        enc = tokenizer(texts, truncation=True, max_length=args.max_length)
        return [
            {"input_ids": ids, "attention_mask": mask, "labels": label2id[y]}
            for ids, mask, y in zip(enc["input_ids"], enc["attention_mask"], gold, strict=True)
        ]

    train_set, test_set = encode("train"), encode("test")
    set_seed(args.seed)  # the new head's initialisation too, as tunelab seeds before building
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id
    )
    with tempfile.TemporaryDirectory() as output_dir:
        training_args = TrainingArguments(
            output_dir=output_dir,
            num_train_epochs=args.epochs,
            per_device_train_batch_size=args.batch_size,
            per_device_eval_batch_size=64,
            learning_rate=args.lr,
            weight_decay=0.01,
            warmup_steps=0.1,  # a float in [0, 1) is a ratio in transformers 5
            bf16=args.bf16,
            save_strategy="no",
            eval_strategy="no",
            report_to=[],
            seed=args.seed,
            use_cpu=not torch.cuda.is_available(),  # the Trainer refuses bf16 on CPU without it
        )
        trainer = Trainer(
            model=model,
            args=training_args,
            train_dataset=train_set,
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        start = time.perf_counter()
        trainer.train()
        train_seconds = time.perf_counter() - start
        output = trainer.predict(test_set)
    pred = output.predictions.argmax(-1)
    gold = output.label_ids
    results = {
        "data": args.data,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "bf16": args.bf16,
        "test_acc": float(accuracy_score(gold, pred)),
        "test_f1_macro": float(f1_score(gold, pred, average="macro")),
        "train_seconds": round(train_seconds, 1),
    }
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
