"""Explanations of an NER model's entities: each word's attribution to each entity found."""

from __future__ import annotations

import torch

from tunelab.data import alignment
from tunelab.data.words import split_words
from tunelab.tasks.ner.predict import entities, predict_tags, reading
from tunelab.tasks.ner.spans import tags_to_spans
from tunelab.trust.explain import STEPS, attributions, word_scores


def explain_sentence(module, tokenizer, settings, text: str, steps: int) -> list[dict]:
    """Each entity of `text`, as prediction gives it, with each word's attribution to the sum of
    the log-probabilities of the tags its words were given (one window of `max_length`)."""
    words, offsets = split_words(text)
    with torch.inference_mode():
        ((tags, probabilities),) = predict_tags(
            module, tokenizer, [words], **reading(settings, 1, None)
        )
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

    def word_logits(batch):
        return module.model(**module.model_inputs(batch)).logits

    explained = []
    spans = tags_to_spans(tags)
    for span, entity in zip(spans, entities(text, offsets, tags, probabilities), strict=True):
        inside = [w for w in range(span.start, span.end) if w in first]
        positions = [first[w] for w in inside]
        chosen = [module.label2id[tags[w]] for w in inside]

        def target(rows, positions=positions, chosen=chosen):
            scores = rows[:, positions].log_softmax(-1)
            return scores[:, range(len(chosen)), chosen].sum(-1)

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
    return [
        {"text": text, "entities": explain_sentence(module, tokenizer, settings, text, steps)}
        for text in texts
    ]
