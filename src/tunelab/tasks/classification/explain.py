"""Explanations of a classifier's decisions: each word's attribution to the label it gave."""

from __future__ import annotations

import bisect

import torch

from tunelab.data.words import split_words
from tunelab.errors import TunelabError
from tunelab.trust.explain import STEPS, attributions, word_scores

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def explain_text(module, tokenizer, settings: dict, text: str, steps: int = STEPS) -> dict:
    """The text's label and probability, and each word's attribution to the label's
    log-probability (the text read from its start, up to the model's `max_length`)."""
    words, offsets = split_words(text)
    encoded = tokenizer(
        text,
        truncation=True,
        max_length=settings["max_length"],
        return_offsets_mapping=True,
        return_tensors="pt",
    )
    starts = [start for start, _ in offsets]
    token_words = []
    for start, end in encoded.pop("offset_mapping")[0].tolist():
        word = bisect.bisect_right(starts, start) - 1
        inside = end > start and word >= 0 and start < offsets[word][1]
        token_words.append(word if inside else None)
    inputs = {key: value for key, value in encoded.items() if key in INPUTS}
    with torch.no_grad():
        logits = module.eval_logits(inputs).float()[0]
    label = int(logits.argmax())
    scores, difference, gap = attributions(
        module,
        tokenizer,
        inputs,
        module.eval_logits,
        lambda rows: rows.log_softmax(-1)[:, label],
        steps,
    )
    return {
        "text": text,
        "label": module.labels[label],
        "probability": round(float(module.probabilities(logits[None])[0, label]), 6),
        "words": word_scores(words, offsets, token_words, scores),
        "difference": round(difference, 6),
        "completeness_gap": round(gap, 6),
    }


def explain_texts(module, tokenizer, settings: dict, texts: list[str], steps: int = STEPS):
    """One explanation per text (`tunelab-explain`, `Predictor.explain`)."""
    if settings.get("text_pair_column"):
        raise TunelabError("explanations are for single texts; this model reads text pairs")
    if module.multi_label:
        raise TunelabError("explanations are for single-label classifiers")
    return [explain_text(module, tokenizer, settings, text, steps) for text in texts]
