"""Dynamic padding: each batch is padded to its own longest sequence, never to a fixed length."""

from __future__ import annotations

import torch


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
