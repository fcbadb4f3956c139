"""Subword alignment: word-level labels onto sub-tokens, and back."""

from __future__ import annotations

import logging
import re

from tokenizers import pre_tokenizers

from tunelab.data.reading import STRIDE
from tunelab.data.windows import (
    SENTENCE_ENDS,
    sentence_pieces,
    special_tokens_around,
    window_starts,
)
from tunelab.errors import TunelabError

IGNORE = -100  # label id the loss ignores (special tokens, non-first sub-tokens)
# label id of a word or text without a gold label (data.unlabelled): a teacher's alone to teach
UNLABELLED = -2
log = logging.getLogger(__name__)
# Chinese and Japanese characters (Han, kana), written without spaces between words.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
# ... and the punctuation written among them (CJK symbols, full-width forms)
CJK_START = re.compile(f"[{CJK}\u3000-\u303f\uff00-\uffef]")


def words_as_in_text(tokenizer):
    """`tokenizer`, set to read word-split input as it reads the same words in running text.

    Byte-level BPE tokenizers (RoBERTa, ModernBERT) mark a word that follows a space; handed words
    one by one they drop that mark unless their pre-tokenizer adds a prefix space, and would read
    every word as if it began a text, which the model has rarely seen. That one setting is turned
    on (in place, once); a tokenizer that still reads words otherwise is named in a warning.
    """
    if getattr(tokenizer, "_tunelab_words_checked", False):
        return tokenizer
    if not _reads_words_as_text(tokenizer):
        backend = getattr(tokenizer, "backend_tokenizer", None)
        pre = backend.pre_tokenizer if backend is not None else None
        if isinstance(pre, pre_tokenizers.ByteLevel):
            pre.add_prefix_space = True
            backend.pre_tokenizer = pre
        if _reads_words_as_text(tokenizer):
            log.info("tokenizer: words read with a prefix space, as in running text")
        else:
            log.warning(
                "tokenizer %s reads pre-split words otherwise than running text: "
                "word labels may suffer",
                type(tokenizer).__name__,
            )
    tokenizer._tunelab_words_checked = True
    return tokenizer


def _reads_words_as_text(tokenizer) -> bool:
    """Whether a word after the first gets the same sub-tokens given as a word as in text."""
    words = ["a", "a"]
    split = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    text = tokenizer(" ".join(words), add_special_tokens=False)

    def second(encoding) -> list[int]:
        return [
            i
            for i, word in zip(encoding["input_ids"], encoding.word_ids(), strict=True)
            if word == 1
        ]

    return second(split) == second(text)


def tokenized_words(tokenizer, sentences: list[list[str]]) -> tuple[list[list[int]], list[list]]:
    """Sub-token ids and each one's word index (as `BatchEncoding.word_ids`) of word-split
    sentences.

    A SentencePiece tokenizer marks every word it is handed as following a space; a Chinese or
    Japanese word follows none in running text, and its character would come after a lone
    space piece, which would then carry the word's label. That lone piece is dropped before a
    word that starts with such a character, so the character itself is the word's first
    sub-token (MSRA's words are single characters).
    """
    batch = tokenizer(sentences, is_split_into_words=True, add_special_tokens=False)
    ids = [list(batch["input_ids"][i]) for i in range(len(sentences))]
    words = [batch.word_ids(i) for i in range(len(sentences))]
    lone = _lone_space_id(tokenizer)
    if lone is None:
        return ids, words
    for i, sentence in enumerate(sentences):
        keep = [
            not (
                token == lone
                and word is not None
                and CJK_START.match(sentence[word])
                and j + 1 < len(ids[i])
                and words[i][j + 1] == word
            )
            for j, (token, word) in enumerate(zip(ids[i], words[i], strict=True))
        ]
        if not all(keep):
            ids[i] = [t for t, k in zip(ids[i], keep, strict=True) if k]
            words[i] = [w for w, k in zip(words[i], keep, strict=True) if k]
    return ids, words


def _lone_space_id(tokenizer) -> int | None:
    """The id of a SentencePiece tokenizer's lone space piece ("▁"), None for others."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or not isinstance(backend.pre_tokenizer, pre_tokenizers.Metaspace):
        return None
    found = tokenizer.convert_tokens_to_ids("▁")
    return None if found == tokenizer.unk_token_id else found


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
    stride: int | None = STRIDE,
    documents: list[int] | None = None,
    context: int = 0,
    by_sentence: bool = False,
) -> list[dict]:
    """Tokenize word-split sentences into model inputs with aligned labels.

    A sentence longer than `max_length` sub-tokens (special tokens included) becomes several
    windows overlapping by `stride` sub-tokens (`windows.window_starts`); with `stride=None` it is
    truncated instead and the words lost are counted. Windows are cut from the whole sentence's
    sub-tokens, so a word's first sub-token is known even when a window starts inside the word.

    Each item holds `input_ids`, `labels`, `word_index` (the word whose first sub-token sits
    there, else -1), `sentence` (index in `sentences`), `window` (index within the sentence) and
    `words_truncated`.

    With `context=k` (document context, as in FLERT), a sentence that fits in one window is
    surrounded by the sub-tokens of up to k sentences before and k after it in the same document
    (`documents` gives each sentence's document), as many as fit, split evenly between the two
    sides; context sub-tokens carry no label and no word. Sentences that need several windows get
    none.

    With `by_sentence`, a sequence longer than `max_length` is read sentence by sentence instead:
    cut after each sentence-final word (`windows.sentence_pieces`), each piece an item of its own,
    a sentence longer than a window in overlapping windows.

    Words that the tokenizer turns into nothing (zero-width or control characters) are replaced by
    the unknown token, so that every word still gets a sub-token and a prediction.
    """
    tokenizer = words_as_in_text(tokenizer)
    before, after = special_tokens_around(tokenizer)
    size = max_length - len(before) - len(after)
    if stride is not None and not 0 <= stride < size:
        raise TunelabError(
            f"data.stride={stride} must be at least 0 and below data.max_length={max_length} "
            f"minus {len(before) + len(after)} special tokens"
        )
    if not sentences:
        return []
    sentences, all_ids, all_words = _tokenized_with_unk(tokenizer, sentences)
    pad_left, pad_right = [IGNORE] * len(before), [IGNORE] * len(after)
    no_word_left, no_word_right = [-1] * len(before), [-1] * len(after)
    encoded = []
    for i, words in enumerate(sentences):
        ids = all_ids[i]
        token_labels, word_index = align_labels(all_words[i], labels[i], inside_of)
        if stride is None:
            pieces = [(0, size)]
        elif by_sentence and len(ids) > size:
            ends = {j for j, word in enumerate(words) if word in SENTENCE_ENDS}
            pieces = sentence_pieces(all_words[i], ends, size, stride)
        else:
            pieces = [(start, start + size) for start in window_starts(len(ids), size, stride)]
        truncated = 0
        if stride is None and len(ids) > size:
            truncated = len(words) - sum(1 for w in word_index[:size] if w >= 0)
        left, right = [], []
        if context and len(pieces) == 1 and len(ids) < size:
            left, right = _context(all_ids, documents, i, context, size - len(ids))
        for window, (start, end) in enumerate(pieces):
            cut = slice(start, end)
            around_left, around_right = [IGNORE] * len(left), [IGNORE] * len(right)
            encoded.append(
                {
                    "input_ids": before + left + ids[cut] + right + after,
                    "labels": pad_left + around_left + token_labels[cut] + around_right + pad_right,
                    "word_index": no_word_left
                    + [-1] * len(left)
                    + word_index[cut]
                    + [-1] * len(right)
                    + no_word_right,
                    "sentence": i,
                    "window": window,
                    "words_truncated": truncated,
                }
            )
    return encoded


def _context(
    ids: list[list[int]], documents: list[int] | None, i: int, k: int, room: int
) -> tuple[list[int], list[int]]:
    """Sub-tokens of up to `k` sentences either side of sentence `i` within its document, cut to
    `room` in all: each side gets half, and what one side cannot use goes to the other."""
    documents = documents or [0] * len(ids)
    same = [
        j for j in range(i - k, i + k + 1) if 0 <= j < len(ids) and documents[j] == documents[i]
    ]
    left = [t for j in same if j < i for t in ids[j]]
    right = [t for j in same if j > i for t in ids[j]]
    n_left = min(len(left), max(room // 2, room - len(right)))
    n_right = min(len(right), room - n_left)
    return left[len(left) - n_left :], right[:n_right]


def _tokenized_with_unk(tokenizer, sentences: list[list[str]]):
    """`tokenized_words` of `sentences`, each word that gave no sub-token replaced by the unknown
    token first; returns the sentences as tokenized too. Words are tokenized one by one, so a
    word missing from its sentence's word indices is empty anywhere: only the few sentences
    that hold one are tokenized again."""
    all_ids, all_words = tokenized_words(tokenizer, sentences)
    unk = tokenizer.unk_token or "[UNK]"
    sentences = list(sentences)
    for i, sentence in enumerate(sentences):
        seen = set(all_words[i])
        if len(seen - {None}) < len(sentence):
            sentences[i] = [w if j in seen else unk for j, w in enumerate(sentence)]
            (ids,), (words,) = tokenized_words(tokenizer, [sentences[i]])
            all_ids[i], all_words[i] = ids, words
    return sentences, all_ids, all_words
