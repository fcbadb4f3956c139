"""Classification prediction: texts (or text pairs) in, label and probabilities out."""

from __future__ import annotations

from pathlib import Path

import torch

from tunelab.data.batching import sorted_batches
from tunelab.data.lines import read_lines, write_jsonl
from tunelab.data.reading import MAX_LENGTH, STRIDE
from tunelab.errors import TunelabError
from tunelab.tasks import FileJob
from tunelab.tasks.classification import encoding
from tunelab.tasks.classification.module import SequenceClassificationModule


@torch.inference_mode()
def classify(
    module: SequenceClassificationModule,
    tokenizer,
    texts: list[str],
    pairs: list[str] | None = None,
    batch_size: int = 64,
    max_length: int = MAX_LENGTH,
    stride: int = STRIDE,
    long_text: str = "truncate",
    max_tokens: int | None = 2048,
) -> list[dict]:
    """Label and per-label probabilities of each text (multi-label: the labels over the
    threshold), read as evaluation reads it: same encoding (long-text strategy, windows,
    pairs), batching and averaging of a text's windows."""
    module.eval()
    items, _ = encoding.encode_texts(
        tokenizer, texts, pairs, [0] * len(texts), max_length, stride, long_text
    )
    pad_values = {"input_ids": tokenizer.pad_token_id}
    if pairs is not None:
        pad_values["token_type_ids"] = 0
    outputs = {}
    keep = ("example", "window")
    for batch in sorted_batches(items, pad_values, keep, batch_size, max_tokens):
        outputs.update(module.window_logits(batch))
    probs = module.example_probs(outputs)
    records = []
    for i, text in enumerate(texts):
        record = {"text": text} if pairs is None else {"text": text, "text_pair": pairs[i]}
        named = dict(zip(module.labels, probs[i].tolist(), strict=True))
        if module.multi_label:
            record["labels"] = [name for name, p in named.items() if p >= module.threshold]
        else:
            record["label"] = max(named, key=named.get)
        record["probabilities"] = {name: round(p, 6) for name, p in named.items()}
        records.append(record)
    return records


def read_inputs(source: Path, settings: dict, errors: str = "strict") -> list[str]:
    """Texts to label, one per line (tables go through tunelab-predict's table path)."""
    pair_column = settings.get("text_pair_column")
    if pair_column:
        raise TunelabError(
            f"{source}: this model labels text pairs; give a table (.csv, .tsv or .jsonl) with "
            f"columns {settings.get('text_column', 'text')!r} and {pair_column!r}"
        )
    return read_lines(source, errors)


def label_texts(
    module,
    tokenizer,
    settings: dict,
    texts: list[str],
    pairs: list[str] | None = None,
    batch_size: int = 64,
    max_tokens: int | None = 2048,
) -> list[dict]:
    """Each text with its label (or labels) and every label's probability."""
    if (pairs is not None) != bool(settings.get("text_pair_column")):
        kind = "text pairs" if pairs is None else "single texts"
        raise TunelabError(f"this model was trained on {kind}, not the input given")
    return classify(
        module,
        tokenizer,
        texts,
        pairs,
        batch_size,
        settings["max_length"],
        settings.get("stride", STRIDE),
        settings.get("long_text", "truncate"),
        max_tokens,
    )


def predict_file(module, tokenizer, settings: dict, job: FileJob) -> int:
    """`tunelab-predict` for classification: one JSON object per input text."""
    texts = read_inputs(job.input, settings, job.errors)
    records = label_texts(module, tokenizer, settings, texts, None, job.batch_size, job.max_tokens)
    write_jsonl(job.output, records)
    return len(records)
