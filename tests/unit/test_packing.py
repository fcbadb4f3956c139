"""Packed training batches: every item's tokens, positions and labels survive packing."""

import random

import torch

from tunelab.data.batching import block_diagonal_mask, first_fit_decreasing, pack_batch


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
