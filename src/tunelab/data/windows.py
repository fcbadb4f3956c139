"""Sliding windows over sub-tokens, and the rule that merges overlapping windows back into words.

Merge rule: each word takes its scores from the window in which its first sub-token sits farthest
from a window edge (ties: the earlier window), so that every word is predicted exactly once and
with as much context on both sides as the windows give it.
"""

from __future__ import annotations

import random

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


def running_text_groups(
    lengths: list[int], documents: list[int], share: float, size: int
) -> list[list[int]]:
    """Runs of neighbouring sentences to join into running text for training.

    The sentences of each marked document, in order, are cut into runs of at most `size`
    sub-tokens (a sentence longer than that is a run of its own); every run is either joined or
    left as separate sentences, so that about `share` of the runs are joined, spread evenly over
    the file. Sentences outside any marked document are never joined: neighbours in a file of
    tweets or of sampled sentences need not belong together, and joining them costs accuracy.
    Only runs of two or more sentences are returned. No randomness: the same file gives the same
    runs, so the tokenized split can be cached.

    Args:
        lengths: sub-tokens per sentence (special tokens excluded).
        documents: each sentence's document (`-DOCSTART-` count; 0: before any marker, not in a
            marked document); runs never cross a document boundary.
        share: 0 (none joined) to 1 (every run joined).
        size: most sub-tokens in a joined run.
    """
    runs: list[list[int]] = []
    run: list[int] = []
    total = 0
    for index, (length, document) in enumerate(zip(lengths, documents, strict=True)):
        new_document = run and documents[run[-1]] != document
        if run and (new_document or total + length > size):
            runs.append(run)
            run, total = [], 0
        if not document:
            continue
        run.append(index)
        total += length
    if run:
        runs.append(run)
    # Run i is joined when the running count of joined runs, share * (i + 1), passes an integer.
    chosen = [run for i, run in enumerate(runs) if int(share * (i + 1)) > int(share * i)]
    return [run for run in chosen if len(run) > 1]


# Neighbouring sentences of running text share content words many times as often as sentences
# far apart; sampled or shuffled sentences and tweets about as often (figures per corpus:
# docs/results.md, scripts/neighbour_ratio.py).
IN_ORDER_RATIO = 3.0


def neighbour_ratio(sentences: list[list[str]], seed: int = 0) -> float:
    """How many times as much neighbouring sentences share their content words (alphabetic,
    over three letters, any case) as pairs of sentences a quarter to three quarters of the file
    apart: well above 1 for text in its running order, about 1 for unrelated sentences; 0 for a
    file too small to tell."""
    words = [{w.lower() for w in sentence if len(w) > 3 and w.isalpha()} for sentence in sentences]
    n = len(words)
    if n < 8:
        return 0.0

    def shared(a: set, b: set) -> float:
        return len(a & b) / min(len(a), len(b)) if a and b else 0.0

    rng = random.Random(seed)
    near = sum(shared(words[i], words[i + 1]) for i in range(n - 1))
    far = sum(
        shared(words[i], words[(i + rng.randrange(n // 4, 3 * n // 4)) % n]) for i in range(n - 1)
    )
    return near / far if far else (float("inf") if near else 0.0)


SENTENCE_ENDS = frozenset({".", "!", "?", "...", "。", "！", "？"})


def sentence_pieces(
    word_ids: list[int | None], ends: set[int], size: int, stride: int
) -> list[tuple[int, int]]:
    """[start, end) sub-token slices that read a long text sentence by sentence: cut after
    every word in `ends` (a sentence-final word), each sentence on its own, and a sentence longer
    than `size` sub-tokens in overlapping windows (`window_starts`). A model trained on sentences
    reads each piece as it read its training data.

    Args:
        word_ids: the word of each sub-token (no special tokens).
        ends: indices of the words after which a sentence ends.
    """
    cuts, previous = [], None
    for position, word in enumerate(word_ids):
        if previous in ends and word != previous:
            cuts.append(position)
        previous = word
    bounds = [0, *cuts, len(word_ids)]
    pieces = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        pieces += [
            (start + s, min(start + s + size, end))
            for s in window_starts(end - start, size, stride)
        ]
    return pieces
