"""Dynamic padding: each batch is padded to its own longest sequence, never to a fixed length."""

from __future__ import annotations

from collections.abc import Iterator

import torch


def budget_batches(lengths: list[int], max_items: int, max_tokens: int | None) -> list[list[int]]:
    """Indices 0..n-1, in order, cut into batches of at most `max_items` items and at most
    `max_tokens` positions once padded (items x the batch's longest); an item longer than
    `max_tokens` is a batch of its own. None: `max_items` a batch, whatever their length.

    For evaluation over items sorted by length: short items go many to a batch, long ones few, so
    batches neither carry much padding nor grow too large to run fast (docs/benchmarks.md).
    """
    batches: list[list[int]] = []
    batch: list[int] = []
    longest = 0
    for index, length in enumerate(lengths):
        padded = max(longest, length) * (len(batch) + 1)  # with this item added
        if batch and (len(batch) == max_items or (max_tokens and padded > max_tokens)):
            batches.append(batch)
            batch, longest = [], 0
        batch.append(index)
        longest = max(longest, length)
    return batches + [batch] if batch else batches


def sorted_batches(
    items: list[dict],
    pad_values: dict[str, int],
    keep: tuple[str, ...],
    batch_size: int,
    max_tokens: int | None,
    pack: bool = False,
) -> Iterator[dict[str, torch.Tensor]]:
    """Padded batches of `items` in order of length, cut as evaluation cuts them
    (`budget_batches`): how prediction batches, so that it scores what evaluation scores.

    `pack`: each batch packed several items to a row (`pack_batch`) and cut at `max_tokens`
    real sub-tokens: short texts of many lengths then carry almost no padding, and one forward
    pass (which has a fixed cost) serves many of them."""
    items = sorted(items, key=lambda item: len(item["input_ids"]))
    lengths = [len(item["input_ids"]) for item in items]
    if not pack:
        for batch in budget_batches(lengths, batch_size, max_tokens):
            yield pad_batch([items[i] for i in batch], pad_values, keep)
        return
    start, size = 0, 0
    for end, length in enumerate(lengths):
        if end > start and (
            end - start == batch_size or (max_tokens and size + length > max_tokens)
        ):
            yield pack_batch(items[start:end], pad_values, keep)
            start, size = end, 0
        size += length
    if items:
        yield pack_batch(items[start:], pad_values, keep)


def pad_batch(
    items: list[dict],
    pad_values: dict[str, int],
    keep: tuple[str, ...] = (),
    pad_to_multiple_of: int | None = None,
) -> dict[str, torch.Tensor]:
    """Stack encoded items into tensors.

    Args:
        items: dicts of per-token lists and per-item values.
        pad_values: per-token fields to pad, with their padding value (`input_ids` required);
            an `attention_mask` is added.
        keep: per-item fields to stack as they are (labels, indices).
        pad_to_multiple_of: round the length up (8 suits tensor cores under mixed precision).
    """
    length = max(len(item["input_ids"]) for item in items)
    if pad_to_multiple_of:
        length = -(-length // pad_to_multiple_of) * pad_to_multiple_of
    batch = {
        name: torch.tensor([item[name] + [value] * (length - len(item[name])) for item in items])
        for name, value in pad_values.items()
    }
    batch["attention_mask"] = torch.tensor(
        [[1] * len(item["input_ids"]) + [0] * (length - len(item["input_ids"])) for item in items]
    )
    for name in keep:
        batch[name] = torch.tensor([item[name] for item in items])
    return batch


def first_fit_decreasing(lengths: list[int], capacity: int) -> list[list[int]]:
    """Indices of `lengths` in rows of at most `capacity`, longest first, each into the first row
    with room: few rows, little padding."""
    rows: list[list[int]] = []
    room: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        row = next((r for r, free in enumerate(room) if free >= lengths[index]), None)
        if row is None:
            rows.append([])
            room.append(capacity)
            row = len(rows) - 1
        rows[row].append(index)
        room[row] -= lengths[index]
    return rows


def pack_batch(
    items: list[dict],
    pad_values: dict[str, int],
    keep: tuple[str, ...] = (),
    pad_to_multiple_of: int | None = None,
) -> dict[str, torch.Tensor]:
    """`pad_batch`'s tensors, plus the same items packed several to a row (`packed_*`).

    A random batch of sentences is mostly padding when each gets its own row; packed, the rows are
    as long as the longest item and nearly full. `packed_segments` numbers the items of each row
    from 1 (0: padding), for a block-diagonal attention mask; `packed_position_ids` restart at 0
    for each item; `unpack` [items, length] indexes the flattened packed positions, so that
    `packed_output.flatten(0, 1)[unpack]` puts each item's outputs back in its own row (padding
    positions point at position 0 and must be ignored, as the labels there are).
    """
    batch = pad_batch(items, pad_values, keep, pad_to_multiple_of)
    capacity = batch["input_ids"].shape[1]
    lengths = [len(item["input_ids"]) for item in items]
    rows = first_fit_decreasing(lengths, capacity)
    shape = (len(rows), capacity)
    input_ids = torch.full(shape, pad_values["input_ids"], dtype=torch.long)
    positions = torch.zeros(shape, dtype=torch.long)
    segments = torch.zeros(shape, dtype=torch.long)
    unpack = torch.zeros(batch["input_ids"].shape, dtype=torch.long)
    for r, row in enumerate(rows):
        start = 0
        for segment, index in enumerate(row, 1):
            n = lengths[index]
            span = slice(start, start + n)
            input_ids[r, span] = torch.tensor(items[index]["input_ids"])
            positions[r, span] = torch.arange(n)
            segments[r, span] = segment
            unpack[index, :n] = torch.arange(r * capacity + start, r * capacity + start + n)
            start += n
    batch.update(
        packed_input_ids=input_ids,
        packed_position_ids=positions,
        packed_segments=segments,
        unpack=unpack,
    )
    return batch


def block_diagonal_mask(segments: torch.Tensor, additive: torch.dtype | None = None):
    """[rows, 1, length, length] attention mask for packed rows (`packed_segments`): a token sees
    the tokens of its own item; padding sees padding, so that no query has every key masked
    (which makes NaNs). Boolean (True: attend), or with `additive` a dtype, 0 where attending and
    -1e9 elsewhere, for attention that adds the mask to its scores."""
    same = segments[:, None, :, None] == segments[:, None, None, :]
    if additive is None:
        return same
    return torch.zeros(same.shape, dtype=additive, device=same.device).masked_fill(~same, -1e9)
