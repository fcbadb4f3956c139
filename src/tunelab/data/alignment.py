"""Subword alignment: word-level labels onto sub-tokens, and back."""

from __future__ import annotations

IGNORE = -100  # label id the loss ignores (special tokens, non-first sub-tokens)


def align_labels(
    word_ids: list[int | None],
    word_labels: list[int],
    inside_of: list[int] | None = None,
) -> tuple[list[int], list[int]]:
    """Labels and word index per sub-token.

    The first sub-token of each word carries the word's label and its word index; special tokens
    get IGNORE and -1. Later sub-tokens of a word get IGNORE, or, when `inside_of` is given (the
    `label_all_subtokens` option), the inside version of the word's label (B-X -> I-X).

    Args:
        word_ids: the tokenizer's word index per sub-token (None for special tokens).
        word_labels: label id per word.
        inside_of: label id -> id of its I- form; None to label only first sub-tokens.
    """
    labels, word_index = [], []
    previous = None
    for word in word_ids:
        if word is None:
            labels.append(IGNORE)
            word_index.append(-1)
        elif word != previous:
            labels.append(word_labels[word])
            word_index.append(word)
        else:
            labels.append(IGNORE if inside_of is None else inside_of[word_labels[word]])
            word_index.append(-1)
        previous = word
    return labels, word_index


def encode_sentences(
    tokenizer,
    sentences: list[list[str]],
    labels: list[list[int]],
    max_length: int,
    inside_of: list[int] | None = None,
) -> list[dict]:
    """Tokenize word-split sentences and align their labels.

    Each item holds `input_ids`, `labels`, `word_index` (per sub-token), `sentence` (its index in
    `sentences`) and `words_truncated` (words that got no sub-token because of `max_length`).

    Words that the tokenizer turns into nothing (zero-width or control characters) are replaced by
    the unknown token, so that every word still gets a sub-token and a prediction.
    """
    unk = tokenizer.unk_token or "[UNK]"
    empty = _empty_words(tokenizer, sentences)
    if empty:
        sentences = [[unk if w in empty else w for w in sentence] for sentence in sentences]
    batch = tokenizer(sentences, is_split_into_words=True, truncation=True, max_length=max_length)
    encoded = []
    for i, words in enumerate(sentences):
        word_ids = batch.word_ids(i)
        token_labels, word_index = align_labels(word_ids, labels[i], inside_of)
        seen = max((w for w in word_ids if w is not None), default=-1) + 1
        encoded.append(
            {
                "input_ids": batch["input_ids"][i],
                "labels": token_labels,
                "word_index": word_index,
                "sentence": i,
                "words_truncated": len(words) - seen,
            }
        )
    return encoded


def _empty_words(tokenizer, sentences: list[list[str]]) -> set[str]:
    """Distinct words for which the tokenizer produces no sub-token."""
    vocabulary = sorted({w for sentence in sentences for w in sentence})
    pieces = tokenizer(vocabulary, add_special_tokens=False)["input_ids"]
    return {word for word, ids in zip(vocabulary, pieces, strict=True) if not ids}
