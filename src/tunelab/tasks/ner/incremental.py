"""Class-incremental NER data (ExtendNER, Monaikul et al., 2021): entity types are learnt one step
at a time; every training sentence belongs to one step and is labelled there with that step's
types only (the others read as O), while dev and test keep every type seen so far."""

from __future__ import annotations

import random
from dataclasses import replace

from tunelab.data.conll import Sentence
from tunelab.data.incremental import check_present, step_order, step_share
from tunelab.data.schemes import split_tag


def keep_types(sentence: Sentence, types: set[str]) -> Sentence:
    """The sentence with the tags of every other entity type read as O."""
    tags = [tag if split_tag(tag)[1] in types else "O" for tag in sentence.tags]
    return replace(sentence, tags=tags)


def entity_types(sentences: list[Sentence]) -> set[str]:
    return {split_tag(t)[1] for s in sentences for t in s.tags} - {""}


def sentence_steps(sentences: list[Sentence], order: list, seed: int) -> list[int]:
    """The step each training sentence belongs to: one of the steps whose types it holds, drawn
    at random; a sentence holding none of them, any step. Fixed by the seed alone, so every
    step of a continual run (and a rerun) partitions the corpus alike."""
    rng = random.Random(f"continual:{seed}")
    order = step_order(order)
    index = {t: i for i, kinds in enumerate(order) for t in kinds}
    steps = []
    for sentence in sentences:
        held = sorted({index[split_tag(t)[1]] for t in sentence.tags if split_tag(t)[1] in index})
        steps.append(rng.choice(held) if held else rng.randrange(len(order)))
    return steps


def step_sentences(
    sentences: list[Sentence], order: list, step: int, replay: int, seed: int
) -> list[Sentence]:
    """The training sentences of `step`, labelled with its types only, then up to `replay`
    sentences of the earlier steps, each labelled with its own step's types: a replay memory as
    the earlier steps stored it."""
    order = step_order(order)
    check_present(order, entity_types(sentences), "continual.order")
    steps = sentence_steps(sentences, order, seed)
    return [
        keep_types(sentences[i], set(order[steps[i]]))
        for i in step_share(steps, step, len(order), replay, seed)
    ]
