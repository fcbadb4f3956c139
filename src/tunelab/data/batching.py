"""Dynamic padding: each batch is padded to its own longest sequence, never to a fixed length."""

from __future__ import annotations

import torch

from tunelab.data.alignment import IGNORE, Encoded


def pad_batch(
    items: list[Encoded], pad_token_id: int, pad_to_multiple_of: int | None = None
) -> dict[str, torch.Tensor]:
    """Stack encoded sentences into padded tensors.

    `pad_to_multiple_of` (8 under mixed precision) rounds the length up so that matrix shapes
    suit tensor cores.
    """
    length = max(len(item.input_ids) for item in items)
    if pad_to_multiple_of:
        length = -(-length // pad_to_multiple_of) * pad_to_multiple_of

    def padded(rows: list[list[int]], value: int) -> torch.Tensor:
        return torch.tensor([row + [value] * (length - len(row)) for row in rows])

    return {
        "input_ids": padded([item.input_ids for item in items], pad_token_id),
        "attention_mask": padded([[1] * len(item.input_ids) for item in items], 0),
        "labels": padded([item.labels for item in items], IGNORE),
        "word_index": padded([item.word_index for item in items], -1),
        "sentence": torch.tensor([item.sentence for item in items]),
    }
