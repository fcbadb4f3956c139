"""Explanations of an NER model's entities: each word's attribution to each entity found."""

from __future__ import annotations

import bisect

import torch

from tunelab.data import alignment
from tunelab.data.words import split_words
from tunelab.tasks.ner.predict import label_texts
from tunelab.trust.explain import STEPS, attributions, word_scores


def explain_entities(module, tokenizer, settings, text: str, entities: list[dict], steps: int):
    """Each entity of `text` (as prediction gives them) with each word's attribution to the sum
    of the entity's words' tag log-probabilities (one window of the model's `max_length`)."""
    words, offsets = split_words(text)
    (item,) = alignment.encode_sentences(
        tokenizer, [words], [[0] * len(words)], settings["max_length"], stride=None
    )
    token_words, current = [], None
    for word in item["word_index"]:  # a word's later sub-tokens follow its first one
        current = word if word >= 0 else current
        token_words.append(current)
    special = tokenizer.get_special_tokens_mask(item["input_ids"], already_has_special_tokens=True)
    token_words = [None if s else w for w, s in zip(token_words, special, strict=True)]
    first = {word: position for position, word in enumerate(item["word_index"]) if word >= 0}
    ids = torch.tensor([item["input_ids"]])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    starts = [start for start, _ in offsets]

    def word_logits(batch):
        return module.model(**module.model_inputs(batch)).logits

    explained = []
    for entity in entities:
        inside = range(
            bisect.bisect_left(starts, entity["start"]), bisect.bisect_left(starts, entity["end"])
        )
        positions = [first[w] for w in inside if w in first]
        tags = [
            module.label2id[("B-" if n == 0 else "I-") + entity["type"]]
            for n in range(len(positions))
        ]

        def target(rows, positions=positions, tags=tags):
            chosen = rows[:, positions].log_softmax(-1)
            return chosen[:, range(len(tags)), tags].sum(-1)

        scores, difference, gap = attributions(
            module, tokenizer, inputs, word_logits, target, steps
        )
        explained.append(
            {
                **entity,
                "words": word_scores(words, offsets, token_words, scores),
                "difference": round(difference, 6),
                "completeness_gap": round(gap, 6),
            }
        )
    return explained


def explain_texts(module, tokenizer, settings: dict, texts: list[str], steps: int = STEPS):
    """Each text with its entities, each entity with its explanation."""
    with torch.inference_mode():
        records = label_texts(module, tokenizer, settings, texts)
    return [
        {
            "text": r["text"],
            "entities": explain_entities(
                module, tokenizer, settings, r["text"], r["entities"], steps
            ),
        }
        for r in records
    ]
