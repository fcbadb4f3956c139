"""How a text classifier reads its data and its texts: the reading settings of the
classification DataModule (flat `data.*` keys; `tunelab.data.settings`). They travel with the
model (`tunelab.json`), so evaluation, prediction and serving read text as training did."""

from __future__ import annotations

from dataclasses import dataclass

from tunelab.data.reading import MAX_LENGTH, STRIDE
from tunelab.data.settings import layout

LONG_TEXT = ("truncate", "head_tail", "windows")


@dataclass(frozen=True)
class TextReading:
    """How labelled texts are read.

    Attributes:
        text_column: the text column, or a list of alternatives (first present wins).
        label_column: the label column.
        text_pair_column: an optional second text (pair tasks, e.g. question/answer).
        label_names: maps raw labels to names (e.g. {0: negative, 1: positive}).
        label_descriptions: what each label means, in words (zero-shot classification reads
            them; `tunelab.tasks.classification.methods.zero_shot`).
        label_words: a word (or words) per label, which prompt-based classification scores at
            the template's mask (`tunelab.tasks.classification.methods.prompt`).
        multi_label: labels are sets, written joined by `label_separator`.
        label_separator: what joins a multi-label row's labels.
        long_text: `truncate` (keep the start), `head_tail` (keep both ends) or `windows`
            (overlapping chunks of `max_length` with `stride` sub-tokens shared; the model's
            logits are averaged per text).
        max_length: sub-tokens per text (or window), special tokens included.
        stride: `windows` only: sub-tokens shared by neighbouring chunks.
        streaming: read the training table while training (`tunelab.data.stream`) instead of
            tokenizing it all first; needs `trainer.max_steps`.
        shuffle_buffer: rows a streamed epoch is shuffled within.
    """

    text_column: str | list[str] = layout("text")
    label_column: str = layout("label")
    text_pair_column: str | None = layout(None)
    label_names: dict | None = layout(None)
    label_descriptions: dict | None = None
    label_words: dict | None = None
    multi_label: bool = False
    label_separator: str = "|"
    long_text: str = "truncate"
    max_length: int = MAX_LENGTH
    stride: int = STRIDE
    streaming: bool = False
    shuffle_buffer: int = 10_000
