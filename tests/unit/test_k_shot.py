"""The K-shot samplers: exact K per class, the greedy type sampler, seeds, errors."""

from collections import Counter

import pytest

from tunelab.data.k_shot import greedy_sample, per_class_sample, sample_rng
from tunelab.errors import TunelabError


def test_per_class_takes_exactly_k_of_each_in_input_order():
    labels = ["a"] * 10 + ["b"] * 3 + ["c"] * 7
    chosen = per_class_sample(labels, 3, sample_rng(1, "train"), "train")
    assert Counter(labels[i] for i in chosen) == {"a": 3, "b": 3, "c": 3}
    assert chosen == sorted(chosen) and [i for i in chosen if labels[i] == "b"] == [10, 11, 12]


def test_same_seed_same_sample_other_seed_or_split_other_sample():
    labels = ["a", "b"] * 50
    draw = lambda seed, split: per_class_sample(labels, 4, sample_rng(seed, split), "x")  # noqa: E731
    assert draw(3, "train") == draw(3, "train")
    assert draw(3, "train") != draw(4, "train")
    assert draw(3, "train") != draw(3, "dev")


def test_greedy_reaches_k_for_every_type_starting_from_the_rarest():
    # RARE occurs twice, in sentences that also hold PER: after RARE is covered (two
    # sentences), PER already has 2 of its 3 and needs one more sentence.
    mentions = [["RARE", "PER"], ["RARE", "PER"]] + [["PER"]] * 6 + [[]] * 4 + [["LOC"]] * 5
    chosen = greedy_sample(mentions, 2, sample_rng(0, "train"), "train")
    counts = Counter(kind for i in chosen for kind in mentions[i])
    assert counts["RARE"] == 2 and counts["PER"] == 2 and counts["LOC"] == 2
    assert {0, 1} <= set(chosen) and len(chosen) == 4  # nothing from the empty sentences


def test_greedy_counts_every_mention_of_a_drawn_sentence():
    mentions = [["PER", "PER", "PER"], ["PER"], ["PER"]]
    chosen = greedy_sample(mentions, 2, sample_rng(5, "train"), "train")
    counts = Counter(kind for i in chosen for kind in mentions[i])
    assert counts["PER"] >= 2 and (chosen == [0] or len(chosen) == 2)


@pytest.mark.parametrize(
    "sampler, mentions, fragments",
    [
        (per_class_sample, ["a"] * 5 + ["b"] * 2, ["data.k_shot=3", "'b'", "only 2", "<=2"]),
        (greedy_sample, [["ORG"], ["PER"]] * 4 + [["MISC"]], ["'MISC'", "only 1", "dev.txt"]),
    ],
)
def test_k_above_a_class_count_names_the_class_and_count(sampler, mentions, fragments):
    with pytest.raises(TunelabError) as error:
        sampler(mentions, 3, sample_rng(0, "dev"), "the dev split (dev.txt)")
    message = str(error.value)
    assert "\n" not in message and all(f in message for f in fragments)


def test_at_most_keeps_a_class_with_fewer_than_k_whole():
    labels = ["a"] * 5 + ["b"] * 2
    chosen = per_class_sample(labels, 3, sample_rng(0, "dev"), "the dev split", at_most=True)
    assert Counter(labels[i] for i in chosen) == {"a": 3, "b": 2}
