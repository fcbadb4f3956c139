"""How texts become model items, for training, evaluation and prediction alike: the one encoding
of text classification (call it as `encoding.encode_texts`, so that it has one owner)."""

from __future__ import annotations

from collections import Counter

from tunelab.data.windows import special_tokens_around


def head_tail(ids: list[int], budget: int, head: int) -> list[int]:
    """The first `head` and the last `budget - head` ids of a sequence longer than `budget`
    (Sun et al., 2019: keeping both ends of a long text beats keeping its start); `head=budget`
    is plain truncation."""
    if len(ids) <= budget:
        return ids
    return ids[:head] + ids[len(ids) - (budget - head) :]


def encode_texts(
    tokenizer,
    texts: list[str],
    pairs: list[str] | None,
    targets: list,
    max_length: int,
    stride: int,
    long_text: str,
) -> tuple[list[dict], list[bool]]:
    """Model items for texts (and their second texts, for pair tasks), and per text whether it
    exceeds `max_length`; training, evaluation and prediction all read text through this.

    Each item holds `input_ids` (and `token_type_ids` for pairs), `label` (from `targets`),
    `example` (index of its text) and `window` (index within the text): `long_text=windows`
    gives a text several items, the other strategies one.
    """
    if long_text == "windows":
        batch = tokenizer(
            texts,
            pairs,
            truncation="only_first" if pairs else True,
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
        )
        owners = batch["overflow_to_sample_mapping"]
        truncated = [False] * len(texts)  # windows cover every sub-token
    elif not pairs:
        # One tokenization serves both modes: truncate keeps the first `budget` sub-tokens,
        # head_tail the first quarter and the last three quarters.
        before, after = special_tokens_around(tokenizer)
        budget = max_length - len(before) - len(after)
        head = budget // 4 if long_text == "head_tail" else budget
        full = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
        truncated = [len(ids) > budget for ids in full]
        ids = [before + head_tail(x, budget, head) + after for x in full]
        batch, owners = {"input_ids": ids}, range(len(ids))
    else:  # pairs: the tokenizer's own truncation shares the budget between the two texts
        batch = tokenizer(texts, pairs, truncation=True, max_length=max_length)
        full = tokenizer(texts, pairs, verbose=False)["input_ids"]
        truncated = [len(x) > max_length for x in full]
        owners = range(len(texts))
    items, windows = [], Counter()
    for row, owner in enumerate(owners):
        item = {
            "input_ids": batch["input_ids"][row],
            "label": targets[owner],
            "example": owner,
            "window": windows[owner],
        }
        if pairs:
            item["token_type_ids"] = batch["token_type_ids"][row]
        windows[owner] += 1
        items.append(item)
    return items, truncated
