"""Packed training batches: every item's tokens, positions and labels survive packing."""

import random

import pytest
import torch

from tunelab.data.batching import (
    block_diagonal_mask,
    first_fit_decreasing,
    pack_batch,
    pad_batch,
    sorted_batches,
)


def _items(lengths):
    return [
        {
            "input_ids": [100 * i + j for j in range(n)],
            "labels": [j % 3 for j in range(n)],
            "sentence": i,
        }
        for i, n in enumerate(lengths)
    ]


def test_first_fit_decreasing_places_every_item_once_within_capacity():
    lengths = [random.Random(seed).randint(1, 40) for seed in range(50)]
    rows = first_fit_decreasing(lengths, 40)
    assert sorted(i for row in rows for i in row) == list(range(50))
    assert all(sum(lengths[i] for i in row) <= 40 for row in rows)
    assert len(rows) < 50  # short items share rows


def test_pack_batch_unpacks_to_the_padded_batch():
    lengths = [7, 3, 12, 2, 5, 12, 1]
    items = _items(lengths)
    batch = pack_batch(items, {"input_ids": 0, "labels": -100}, keep=("sentence",))
    packed, unpack = batch["packed_input_ids"], batch["unpack"]
    assert packed.shape[1] == max(lengths)
    assert packed.shape[0] < len(items)
    real = batch["attention_mask"].bool()
    # Read back through `unpack`, each item's tokens are its own, in order.
    assert torch.equal(packed.flatten()[unpack][real], batch["input_ids"][real])
    positions = batch["packed_position_ids"].flatten()[unpack]
    assert torch.equal(positions[real], torch.arange(12).expand(len(items), -1)[real])
    segments = batch["packed_segments"].flatten()[unpack]
    for i, n in enumerate(lengths):  # one segment per item, none shared within a row
        assert len(set(segments[i, :n].tolist())) == 1 and segments[i, 0] > 0
    assert int((batch["packed_segments"] > 0).sum()) == sum(lengths)
    assert torch.equal(batch["sentence"], torch.arange(len(items)))


def test_block_diagonal_mask_keeps_items_apart():
    segments = torch.tensor([[1, 1, 2, 2, 2, 0]])
    mask = block_diagonal_mask(segments)[0, 0]
    assert mask[0, 1] and mask[2, 4] and mask[5, 5]  # own item; padding sees padding
    assert not mask[1, 2] and not mask[4, 0] and not mask[0, 5]
    additive = block_diagonal_mask(segments, torch.bfloat16)[0, 0]
    assert additive.dtype == torch.bfloat16
    assert torch.equal(additive == 0, mask)
    assert bool((additive[~mask] < -1e8).all())


def test_first_fit_decreasing_places_longest_first_and_fills_exact_fits():
    # longest first: 3 opens a row, the 2s share the next, the 1 fills the first row's gap
    assert first_fit_decreasing([1, 3, 2, 2], 4) == [[1, 0], [2, 3]]
    assert first_fit_decreasing([2, 2], 4) == [[0, 1]]  # an exact fit shares a row


def test_pack_batch_numbers_items_from_one_as_long_integers():
    batch = pack_batch(_items([2, 2, 3]), {"input_ids": 0, "labels": -100}, pad_to_multiple_of=4)
    assert batch["input_ids"].shape == (3, 4)  # rounded up like the padded batch
    assert batch["packed_segments"].tolist() == [[1, 1, 1, 0], [1, 1, 2, 2]]
    assert batch["packed_position_ids"].tolist() == [[0, 1, 2, 0], [0, 1, 0, 1]]
    for name in ("packed_input_ids", "packed_position_ids", "packed_segments"):
        assert batch[name].dtype == torch.long, name


@pytest.mark.parametrize("longest, multiple, padded", [(5, 8, 8), (8, 8, 8), (9, 8, 16), (3, 1, 3)])
def test_pad_to_multiple_of_rounds_up_to_the_next_multiple_only(longest, multiple, padded):
    batch = pad_batch(_items([2, longest]), {"input_ids": 0}, pad_to_multiple_of=multiple)
    assert batch["input_ids"].shape == (2, padded)
    assert batch["attention_mask"].tolist() == [
        [1] * 2 + [0] * (padded - 2),
        [1] * longest + [0] * (padded - longest),
    ]


def test_sorted_batches_run_in_length_order_cut_as_evaluation_cuts():
    items = _items([5, 1, 3, 4, 2])
    batches = list(sorted_batches(items, {"input_ids": 7, "labels": -100}, ("sentence",), 2, 8))
    # lengths 1, 2 | 3, 4 (2 x 4 = 8 positions) | 5
    assert [b["sentence"].tolist() for b in batches] == [[1, 4], [2, 3], [0]]
    assert batches[0]["input_ids"].tolist() == [[100, 7], [400, 401]]
    assert batches[0]["labels"].tolist() == [[0, -100], [0, 1]]
    assert batches[0]["attention_mask"].tolist() == [[1, 0], [1, 1]]


def test_packed_prediction_batches_keep_every_item_once_within_the_token_budget():
    lengths = [3, 9, 4, 7, 2, 8, 5, 6]
    items = [{"input_ids": [i + 1] * n, "sentence": i} for i, n in enumerate(lengths)]
    batches = list(sorted_batches(items, {"input_ids": 0}, ("sentence",), 3, 12, pack=True))
    seen = [s for batch in batches for s in batch["sentence"].tolist()]
    assert sorted(seen) == list(range(len(items)))  # no item lost or repeated
    for batch in batches:
        real = batch["attention_mask"].sum().item()
        assert real <= 12 or len(batch["sentence"]) == 1  # the budget counts real sub-tokens
        assert len(batch["sentence"]) <= 3
        # packed rows hold the same sub-tokens as the padded rows, each item once
        assert (batch["packed_segments"] > 0).sum().item() == real
        flat = batch["packed_input_ids"].flatten()[batch["unpack"]]
        assert torch.equal(flat * batch["attention_mask"], batch["input_ids"])
    # sorted by length: 2+3+4 = 9 fits, then 5+6 (+7 would pass 12), 7, 8, 9
    assert [len(b["sentence"]) for b in batches] == [3, 2, 1, 1, 1]
