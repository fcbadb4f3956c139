"""How masked-LM training reads its text and sets its objective: the settings objects of the
text DataModule (flat `data.*` keys; `tunelab.data.settings`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextBlocks:
    """How raw text is read and cut.

    Attributes:
        text_column: the text column of .jsonl/.csv/.tsv files.
        max_length: sub-tokens per block; texts are concatenated and cut into blocks.
        errors: `strict` (invalid UTF-8 stops with the line) or `replace` (U+FFFD).
        dev_fraction: without a dev* file, this seeded share of the training texts.
        streaming: read the training text while training (`tunelab.data.stream`) instead of
            tokenizing it all first; needs `trainer.max_steps`.
        shuffle_buffer: blocks a streamed epoch is shuffled within.
    """

    text_column: str = "text"
    max_length: int = 128
    errors: str = "strict"
    dev_fraction: float = 0.01
    streaming: bool = False
    shuffle_buffer: int = 10_000


@dataclass(frozen=True)
class Pretraining:
    """The masked-LM objective, and the vocabulary learnt with `tokenizer=train`.

    Attributes:
        mlm_probability: share of sub-tokens chosen for prediction (80% of them become [MASK],
            10% a random token, 10% stay).
        whole_word_mask: choose whole words (all their sub-tokens) instead of sub-tokens.
        vocab_size, lowercase: the WordPiece vocabulary learnt with `tokenizer=train`.
    """

    mlm_probability: float = 0.15
    whole_word_mask: bool = False
    vocab_size: int = 16000
    lowercase: bool = True
