"""Training order: a permutation fixed by (seed, epoch), grouped by length when asked; evaluation
batches within an item and a padded-token budget."""

import random
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.data.base import EpochShuffle
from tunelab.data.batching import budget_batches


def padding(order: list[int], lengths: list[int], batch_size: int) -> int:
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)


@settings(max_examples=50, deadline=None)
@given(
    size=st.integers(0, 300),
    batch_size=st.integers(1, 40),
    pool=st.integers(0, 8),
    done=st.integers(0, 10),
)
def test_grouped_order_is_a_permutation_fixed_by_seed_and_epoch(size, batch_size, pool, done):
    lengths = [random.Random(i).randint(1, 60) for i in range(size)]
    full = list(EpochShuffle(size, batch_size, 7, lambda: (3, 0), lengths, pool))
    assert sorted(full) == list(range(size))
    assert full == list(EpochShuffle(size, batch_size, 7, lambda: (3, 0), lengths, pool))
    # a mid-epoch restart yields the rest of the same order
    rest = list(EpochShuffle(size, batch_size, 7, lambda: (3, done), lengths, pool))
    assert rest == full[done * batch_size :]


def test_grouping_cuts_padding_and_keeps_one_short_batch_last():
    rng = random.Random(0)
    lengths = [rng.randint(3, 120) for _ in range(1000)]
    plain = list(EpochShuffle(1000, 32, 1, lambda: (0, 0), lengths, 0))
    grouped = list(EpochShuffle(1000, 32, 1, lambda: (0, 0), lengths, 10))
    assert padding(grouped, lengths, 32) < padding(plain, lengths, 32) / 5
    # 1000 = 31 x 32 + 8: each loader batch of 32 (and the 8 left over, last) is one sorted run
    chunks = [grouped[i : i + 32] for i in range(0, 1000, 32)]
    assert [len(c) for c in chunks] == [32] * 31 + [8]
    assert all([lengths[i] for i in c] == sorted(lengths[i] for i in c) for c in chunks)
    firsts = [lengths[grouped[i]] for i in range(0, 992, 32)]
    assert firsts != sorted(firsts), "batches must come in random order, not by length"
    other_epoch = list(EpochShuffle(1000, 32, 1, lambda: (1, 0), lengths, 10))
    assert other_epoch != grouped


@settings(max_examples=100, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 200), max_size=200),
    max_items=st.integers(1, 70),
    max_tokens=st.one_of(st.none(), st.integers(1, 3000)),
)
def test_budget_batches_keep_order_and_both_limits(lengths, max_items, max_tokens):
    lengths = sorted(lengths)
    batches = budget_batches(lengths, max_items, max_tokens)
    assert [i for b in batches for i in b] == list(range(len(lengths)))
    for batch, following in zip(batches, [*batches[1:], None], strict=False):
        padded = len(batch) * max(lengths[i] for i in batch)
        assert 0 < len(batch) <= max_items
        assert len(batch) == 1 or max_tokens is None or padded <= max_tokens
        if following:  # cut only where the next item would break a limit
            grown = (len(batch) + 1) * max(lengths[i] for i in [*batch, following[0]])
            assert len(batch) == max_items or (max_tokens is not None and grown > max_tokens)


def test_budget_batches_put_long_items_fewer_to_a_batch():
    lengths = [10] * 100 + [300] * 20
    sizes = [len(b) for b in budget_batches(lengths, 64, 2048)]
    assert sizes == [64, 36, 6, 6, 6, 2]
    assert [len(b) for b in budget_batches(lengths, 64, None)] == [64, 56]


def test_label_pairs_put_two_texts_of_a_label_side_by_side():
    labels = [i % 7 for i in range(100)]  # seven labels, 14 or 15 texts each
    order = list(EpochShuffle(100, 16, 3, lambda: (0, 0), labels=labels))
    assert sorted(order) == list(range(100))
    # 7 pairs of each label and the odd ones out of the two labels with 15: 49 pairs side by side
    side_by_side = sum(labels[a] == labels[b] for a, b in pairwise(order))
    assert side_by_side >= 49
    random_order = list(EpochShuffle(100, 16, 3, lambda: (0, 0)))
    assert sum(labels[a] == labels[b] for a, b in pairwise(random_order)) < 30
    assert order == list(EpochShuffle(100, 16, 3, lambda: (0, 0), labels=labels))
    assert order != list(EpochShuffle(100, 16, 3, lambda: (1, 0), labels=labels))
