"""How an NER model reads text, and how its training items are made: the settings objects of the
NER DataModule (flat `data.*` keys; `tunelab.data.settings`). The reading settings travel with
the model (`tunelab.json`), so evaluation, prediction and serving read text as training did."""

from __future__ import annotations

from dataclasses import dataclass

from tunelab.data.reading import MAX_LENGTH, STRIDE


@dataclass(frozen=True)
class NerReading:
    """How text is read.

    Attributes:
        scheme: tag scheme of the files (`auto` detects it); converted to IOB2 inside.
        max_length: sub-tokens per sequence, special tokens included.
        windows: cut longer sentences into overlapping windows (every word is predicted); if
            False, their tail is truncated, predicted O and counted as `words_truncated`.
        stride: sub-tokens shared by neighbouring windows.
        context: up to this many sentences either side, from the same `-DOCSTART-` document
            (the whole file when it has none), fill each sentence's window as unlabelled context.
        eval_window: window length for every split but train (evaluation, prediction): `auto`
            sizes it to the training items (`eval_window_for`), so that long documents are
            read in windows like the text the model learnt from; None: `max_length`. Windows
            then overlap by half their length.
        by_sentence: evaluation and prediction read a sequence longer than a window sentence by
            sentence (cut after `.`, `!`, `?`; `windows.sentence_pieces`) instead of in windows
            that cut sentences anywhere.
    """

    scheme: str = "auto"
    max_length: int = MAX_LENGTH
    windows: bool = True
    stride: int = STRIDE
    context: int = 0
    eval_window: int | str | None = "auto"
    by_sentence: bool = True


@dataclass(frozen=True)
class NerTraining:
    """How training items are made from the training split.

    Attributes:
        document_windows: also train on each `-DOCSTART-` document of the training split (the
            whole file when it has none) as one long sequence cut into windows (`max_length`,
            `stride`), every word labelled, so that the model learns to tag text with no
            sentence breaks (long documents, raw text).
        running_text: share of the training split's runs of neighbouring sentences (up to
            `running_length` sub-tokens, within one document: `-DOCSTART-`, or a whole unmarked
            file in running order, `windows.neighbour_ratio`) joined into one sequence, so that the
            model also learns text without sentence breaks (`windows.running_text_groups`).
        running_length: sub-tokens of a joined run at most.
        label_all_subtokens: label non-first sub-tokens with the word's I- label instead of -100.
        pack: training batches also carry their sentences packed several to a row
            (`tunelab.data.batching.pack_batch`), which the model trains on when it gives the
            same outputs that way: random batches with next to no padding.
    """

    document_windows: bool = False
    running_text: float = 0.5
    running_length: int = 128
    label_all_subtokens: bool = False
    pack: bool = True
