"""Classification prediction: texts (or text pairs) in, label and probabilities out."""

from __future__ import annotations

import torch

from tunelab.data.batching import sorted_batches
from tunelab.data.reading import MAX_LENGTH, STRIDE
from tunelab.errors import TunelabError
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


@torch.inference_mode()
def embed_texts(
    module: SequenceClassificationModule,
    tokenizer,
    settings: dict,
    texts: list[str],
    batch_size: int = 64,
    max_tokens: int | None = 2048,
) -> torch.Tensor:
    """[texts, dim] the model's embedding of each text (`module.embed`), in input order; a text
    longer than the model reads (`settings["max_length"]`) is embedded from its start."""
    module.eval()
    items, _ = encoding.encode_texts(
        tokenizer, texts, None, [0] * len(texts), settings["max_length"], 0, "truncate"
    )
    rows: dict[int, torch.Tensor] = {}
    pad_values = {"input_ids": tokenizer.pad_token_id}
    for batch in sorted_batches(items, pad_values, ("example",), batch_size, max_tokens):
        embedded = module.embed(batch).float().cpu()
        rows.update(zip(batch["example"].tolist(), embedded, strict=True))
    return torch.stack([rows[i] for i in range(len(texts))])


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
