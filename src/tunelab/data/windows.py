"""Sliding windows over sub-tokens, and the rule that merges overlapping windows back into words.

Merge rule: each word takes its scores from the window in which its first sub-token sits farthest
from a window edge (ties: the earlier window), so that every word is predicted exactly once and
with as much context on both sides as the windows give it.
"""

from __future__ import annotations

import torch


def special_tokens_around(tokenizer) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after a single text ([CLS] and [SEP] for BERT)."""
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    start = next(i for i in range(len(full)) if full[i : i + len(bare)] == bare)
    return full[:start], full[start + len(bare) :]


def window_starts(length: int, size: int, stride: int) -> list[int]:
    """Start offsets of windows of `size` tokens covering `length` tokens, neighbours sharing at
    least `stride` tokens; the last window ends exactly at `length`."""
    if size <= 0 or not 0 <= stride < size:
        raise ValueError(f"need 0 <= stride < window size, got stride={stride}, size={size}")
    if length <= size:
        return [0]
    step = size - stride
    return list(range(0, length - size, step)) + [length - size]


def merge_windows(
    pieces: list[tuple[list[int], list[int], torch.Tensor]],
) -> tuple[list[int], torch.Tensor]:
    """Pick one score row per word from overlapping windows.

    Args:
        pieces: per window, in window order: the word index of each scored word, its distance
            to the nearer window edge, and the [words, labels] scores.

    Returns:
        The words covered (sorted) and their chosen score rows.
    """
    best: dict[int, tuple[int, torch.Tensor]] = {}
    for words, distances, scores in pieces:
        for row, (word, distance) in enumerate(zip(words, distances, strict=True)):
            if word not in best or distance > best[word][0]:
                best[word] = (distance, scores[row])
    words = sorted(best)
    if not words:
        return [], torch.zeros(0, pieces[0][2].shape[-1] if pieces else 0)
    return words, torch.stack([best[word][1] for word in words])
