"""Class-incremental NER data (ExtendNER, Monaikul et al., 2021): entity types are learnt one step
at a time; every training sentence belongs to one step and is labelled there with that step's
types only (the others read as O), while dev and test keep every type seen so far."""

from __future__ import annotations

import random
from dataclasses import replace

from tunelab.data.conll import Sentence
from tunelab.data.schemes import split_tag
from tunelab.errors import TunelabError


def keep_types(sentence: Sentence, types: set[str]) -> Sentence:
    """The sentence with the tags of every other entity type read as O."""
    tags = [tag if split_tag(tag)[1] in types else "O" for tag in sentence.tags]
    return replace(sentence, tags=tags)


def check_types(wanted: list[str], sentences: list[Sentence], what: str) -> None:
    """One line naming a type that no sentence of the training split has."""
    present = {split_tag(t)[1] for s in sentences for t in s.tags} - {""}
    missing = [t for t in wanted if t not in present]
    if missing:
        raise TunelabError(
            f"{what} names {', '.join(missing)}, not an entity type of the training split "
            f"({', '.join(sorted(present))})"
        )


def sentence_steps(sentences: list[Sentence], order: list[str], seed: int) -> list[int]:
    """The step each training sentence belongs to: one of the steps whose type it holds, drawn
    at random; a sentence holding none of them, any step. Fixed by the seed alone, so every
    step of a continual run (and a rerun) partitions the corpus alike."""
    rng = random.Random(f"continual:{seed}")
    index = {t: i for i, t in enumerate(order)}
    steps = []
    for sentence in sentences:
        held = sorted({index[split_tag(t)[1]] for t in sentence.tags if split_tag(t)[1] in index})
        steps.append(rng.choice(held) if held else rng.randrange(len(order)))
    return steps


def step_sentences(
    sentences: list[Sentence], order: list[str], step: int, replay: int, seed: int
) -> list[Sentence]:
    """The training sentences of `step`, labelled with its type only, then up to `replay`
    sentences of the earlier steps (drawn at random, seeded), each labelled with its own step's
    type: a replay memory as the earlier steps stored it."""
    if not 0 <= step < len(order):
        raise TunelabError(f"continual step {step} is outside the order {order}")
    steps = sentence_steps(sentences, order, seed)
    own = [keep_types(s, {order[step]}) for s, k in zip(sentences, steps, strict=True) if k == step]
    earlier = [i for i, k in enumerate(steps) if k < step]
    chosen = sorted(
        random.Random(f"replay:{seed}:{step}").sample(earlier, min(replay, len(earlier)))
    )
    return own + [keep_types(sentences[i], {order[steps[i]]}) for i in chosen]
