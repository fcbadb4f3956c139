"""K-shot samples of a split: few-shot experiments with K labelled examples per class or type.

Both samplers draw from a `random.Random` seeded by a string (`sample_rng`), which Python seeds
by the string's bytes, never by `hash()`: the same seed gives the same sample in any process.
"""

from __future__ import annotations

import logging
import random
from collections import Counter

from tunelab.errors import TunelabError

log = logging.getLogger(__name__)


def sample_rng(seed: int, split: str) -> random.Random:
    """The generator for one split's sample: train and dev draw differently from one seed."""
    return random.Random(f"k_shot:{seed}:{split}")


def check_enough(counts: Counter, k: int, what: str, where: str) -> None:
    """One line naming the first class or type (in name order) that has fewer than `k`."""
    for name in sorted(counts):
        if counts[name] < k:
            raise TunelabError(
                f"data.k_shot={k}: {what} {name!r} occurs only {counts[name]} time(s) in "
                f"{where}; choose data.k_shot<={min(counts.values())}"
            )


def per_class_sample(
    labels: list[str], k: int, rng: random.Random, where: str, at_most: bool = False
) -> list[int]:
    """Indices (in input order) of exactly `k` examples of each label, drawn at random;
    `at_most`: a label with fewer than `k` keeps all it has (a dev split smaller than the
    training one), named in the log."""
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    sizes = Counter({n: len(i) for n, i in by_label.items()})
    if not at_most:
        check_enough(sizes, k, "class", where)
    fewer = sorted(name for name, size in sizes.items() if size < k)
    if fewer:
        shown = ", ".join(f"{name} {sizes[name]}" for name in fewer[:5])
        more = ", ..." if len(fewer) > 5 else ""
        log.info(
            "%s: %d classes have fewer than %d, kept whole (%s%s)",
            where,
            len(fewer),
            k,
            shown,
            more,
        )
    chosen = [
        i for name in sorted(by_label) for i in rng.sample(by_label[name], min(k, sizes[name]))
    ]
    return sorted(chosen)


def greedy_sample(mentions: list[list[str]], k: int, rng: random.Random, where: str) -> list[int]:
    """Indices (in input order) of examples in which every type occurs at least `k` times.

    The greedy sampler of Yang and Katiyar (2020): types from the rarest to the most frequent;
    while a type has fewer than `k` occurrences in the sample, add a random example that holds
    it, counting all the types the example holds. Examples with no type are never drawn.
    `mentions`: the types each example holds, once per occurrence (an NER sentence's entities,
    or a multi-label text's labels).
    """
    totals = Counter(kind for kinds in mentions for kind in kinds)
    check_enough(totals, k, "type", where)
    counts: Counter = Counter()
    chosen: set[int] = set()
    for kind in sorted(totals, key=lambda name: (totals[name], name)):
        holders = [i for i, kinds in enumerate(mentions) if kind in kinds and i not in chosen]
        rng.shuffle(holders)
        for index in holders:
            if counts[kind] >= k:
                break
            chosen.add(index)
            counts.update(mentions[index])
    return sorted(chosen)
