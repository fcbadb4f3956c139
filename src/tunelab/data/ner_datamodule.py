"""DataModule for token classification (NER) on CoNLL folders or packaged corpora."""

from __future__ import annotations

import logging

from tunelab.data.alignment import IGNORE, encode_sentences
from tunelab.data.base import TaskDataModule
from tunelab.data.batching import pack_batch
from tunelab.data.conll import Sentence, by_document
from tunelab.data.schemes import split_tag
from tunelab.data.splits import load_ner_splits
from tunelab.errors import CorpusError, TunelabError

log = logging.getLogger(__name__)


def labels_from_types(types: set[str]) -> list[str]:
    """IOB2 label list for entity types: O first, then B-/I- per type in sorted order."""
    return ["O"] + [f"{prefix}-{kind}" for kind in sorted(types) for prefix in "BI"]


class TokenClassificationDataModule(TaskDataModule):
    """Reads, converts, tokenizes and batches NER splits.

    Args:
        tokenizer: model id or folder whose tokenizer to use (normally the model's).
        corpus: a packaged corpus name (`wnut16`, `msra`); or
        dir: a folder holding train*, dev*/valid*, test* CoNLL files.
        scheme: tag scheme of the files (`auto` detects it); converted to IOB2 inside.
        max_length: sub-tokens per sequence, special tokens included.
        windows: cut longer sentences into overlapping windows (every word is predicted); if
            False, their tail is truncated, predicted O and counted as `words_truncated`.
        stride: sub-tokens shared by neighbouring windows.
        context: up to this many sentences either side, from the same `-DOCSTART-` document
            (the whole file when it has none), fill each sentence's window as unlabelled context.
        document_windows: also train on each `-DOCSTART-` document of the training split (the
            whole file when it has none) as one long sequence cut into windows (`max_length`,
            `stride`), every word labelled, so that the model learns to tag text with no
            sentence breaks (long documents, raw text).
        batch_size: training batch size; eval_batch_size for validation and test.
        eval_max_tokens: evaluation batches (sorted by length) also stop at this many positions
            once padded, so long items go fewer to a batch (None: eval_batch_size always). On
            one process only: under DDP every rank must run as many batches.
        group_by_length: training batches are cut from pools of this many batches sorted by
            length, so they need little padding (0: plain random batches).
        pack: training batches also carry their sentences packed several to a row
            (`tunelab.data.batching.pack_batch`), which the model trains on when it gives the
            same outputs that way: random batches with next to no padding.
        label_all_subtokens: label non-first sub-tokens with the word's I- label instead of -100.
        pad_to_multiple_of: round padded lengths up (8 suits mixed precision).
        labels: the label list to use (an existing model's); read from the training split if None.
        test_split: split (file stem) that `test` reads, e.g. `test_long`.
        num_workers: DataLoader workers.
        cache_dir: keep tokenized splits here (`tunelab.data.cache`); None: tokenize every run.
    """

    keep = ("sentence", "window")

    def __init__(
        self,
        tokenizer: str,
        corpus: str | None = None,
        dir: str | None = None,
        scheme: str = "auto",
        max_length: int = 512,
        windows: bool = True,
        stride: int = 128,
        context: int = 0,
        document_windows: bool = False,
        batch_size: int = 32,
        eval_batch_size: int = 64,
        eval_max_tokens: int | None = 2048,
        group_by_length: int = 0,
        pack: bool = True,
        label_all_subtokens: bool = False,
        pad_to_multiple_of: int | None = None,
        labels: list[str] | None = None,
        test_split: str = "test",
        num_workers: int = 0,
        cache_dir: str | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["labels"])
        self._labels = list(labels) if labels is not None else None
        self._sentences: dict[str, list[Sentence]] = {}
        self.repairs: dict[str, int] = {}
        self.words_truncated: dict[str, int] = {}
        self._encoded: dict[str, list[dict]] = {}
        self._scheme: str | None = None

    # -- reading -------------------------------------------------------------------------------
    def sentences(self, split: str) -> list[Sentence]:
        """The IOB2 sentences of a split (`train`, `dev`, `test` or any file stem), read once."""
        if split not in self._sentences:
            scheme = self.hparams.scheme if split == "train" else self.scheme
            loaded = load_ner_splits([split], self.hparams.corpus, self.hparams.dir, scheme)
            self._sentences[split] = loaded.sentences[split]
            self.repairs[split] = loaded.repairs[split]
            if split == "train":
                self._scheme = loaded.scheme
        return self._sentences[split]

    @property
    def scheme(self) -> str:
        """The files' tag scheme: as configured, or detected on the training split (so that every
        split is read alike), or on the split itself when there is no training file."""
        if self._scheme is None and self.hparams.scheme == "auto":
            try:
                self.sentences("train")
            except TunelabError:
                return "auto"
        return self._scheme or self.hparams.scheme

    @property
    def labels(self) -> list[str]:
        """Label list: given, or every entity type of the training split in IOB2."""
        if self._labels is None:
            types = {split_tag(t)[1] for s in self.sentences("train") for t in s.tags} - {""}
            self._labels = labels_from_types(types)
        return self._labels

    def split_stats(self, split: str) -> dict[str, int]:
        """Counts reported beside the scores of a split."""
        return {
            "words_truncated": self.words_truncated.get(split, 0),
            "tags_repaired": self.repairs.get(split, 0),
        }

    @property
    def pad_values(self) -> dict[str, int]:
        return {"input_ids": self.tokenizer.pad_token_id, "labels": IGNORE, "word_index": -1}

    def train_collate(self, items: list[dict]):
        if not self.hparams.pack:
            return self.collate(items)
        return pack_batch(items, self.pad_values, self.keep, self.hparams.pad_to_multiple_of)

    def _label_ids(self, split: str) -> list[list[int]]:
        label2id = {label: i for i, label in enumerate(self.labels)}
        ids = []
        for sentence in self.sentences(split):
            for i, tag in enumerate(sentence.tags):
                if tag not in label2id:
                    raise CorpusError(
                        sentence.path,
                        sentence.lines[i] if sentence.lines else None,
                        f"label {tag!r} ({split} split) never occurs in the training labels "
                        f"({', '.join(self.labels)})",
                    )
            ids.append([label2id[tag] for tag in sentence.tags])
        return ids

    def encoded(self, split: str) -> list[dict]:
        """Tokenized and aligned sentences of a split."""
        if split not in self._encoded:
            inside_of = None
            if self.hparams.label_all_subtokens:
                index = {label: i for i, label in enumerate(self.labels)}
                inside_of = [index.get("I-" + label[2:], i) for i, label in enumerate(self.labels)]
            sentences = self.sentences(split)
            label_ids = self._label_ids(split)
            documents = [s.doc for s in sentences]
            words = [s.words for s in sentences]
            stride = self.hparams.stride if self.hparams.windows else None

            def encode():
                items = encode_sentences(
                    self.tokenizer,
                    words,
                    label_ids,
                    self.hparams.max_length,
                    inside_of,
                    stride,
                    documents=documents,
                    context=self.hparams.context,
                )
                if split == "train" and self.hparams.document_windows:
                    items += self._document_windows(words, label_ids, documents, inside_of)
                return items

            items = self.cached_encoding(split, (words, label_ids, documents, inside_of), encode)
            self.words_truncated[split] = sum(item["words_truncated"] for item in items)
            if self.words_truncated[split]:
                log.warning(
                    "%s split: %d word(s) lie beyond max_length=%d sub-tokens (data.windows=false) "
                    "and are predicted as O",
                    split,
                    self.words_truncated[split],
                    self.hparams.max_length,
                )
            self._encoded[split] = items
        return self._encoded[split]

    def _document_windows(self, words, label_ids, documents, inside_of) -> list[dict]:
        """Training items from whole documents: each document's sentences joined into one
        sequence and cut into overlapping windows; numbered after the sentences."""
        groups = by_document(documents)
        items = encode_sentences(
            self.tokenizer,
            [[word for i in group for word in words[i]] for group in groups],
            [[label for i in group for label in label_ids[i]] for group in groups],
            self.hparams.max_length,
            inside_of,
            self.hparams.stride,
        )
        for item in items:
            item["sentence"] += len(words)
        return items
