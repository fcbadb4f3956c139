"""DataModule for token classification (NER) on CoNLL folders or packaged corpora."""

from __future__ import annotations

import logging

from tunelab.data import alignment, store
from tunelab.data.alignment import IGNORE, UNLABELLED, tokenized_words
from tunelab.data.base import TaskDataModule
from tunelab.data.batching import pack_batch
from tunelab.data.conll import Sentence, by_document
from tunelab.data.incremental import check_present
from tunelab.data.schemes import split_tag
from tunelab.data.settings import Loader, Sampling
from tunelab.data.splits import load_ner_splits
from tunelab.data.store import ItemStore
from tunelab.data.unlabelled import read_unlabelled
from tunelab.data.windows import IN_ORDER_RATIO, neighbour_ratio, running_text_groups
from tunelab.data.words import split_words
from tunelab.errors import CorpusError, TunelabError
from tunelab.tasks.ner.incremental import entity_types, keep_types, step_sentences
from tunelab.tasks.ner.reading import NerReading, NerTraining
from tunelab.tasks.ner.spans import tags_to_spans

log = logging.getLogger(__name__)


def labels_from_types(types: set[str]) -> list[str]:
    """IOB2 label list for entity types: O first, then B-/I- per type in sorted order."""
    return ["O"] + [f"{prefix}-{kind}" for kind in sorted(types) for prefix in "BI"]


def eval_window_for(lengths: list[int], max_length: int) -> int:
    """Windows for reading long text: as long as the training items (their 99th percentile in
    sub-tokens, rounded up to a multiple of 32), at least 64 and at most `max_length`. A model
    tags words at positions it never trained on worse, so a document read in 512-sub-token
    windows by a model trained on short sentences loses F1 (docs/benchmarks.md)."""
    if not lengths:
        return max_length
    ordered = sorted(lengths)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return max(64, min(max_length, -(-p99 // 32) * 32))


class TokenClassificationDataModule(TaskDataModule):
    """Reads, converts, tokenizes and batches NER splits.

    Args:
        tokenizer: model id or folder whose tokenizer to use (normally the model's).
        corpus: a packaged corpus name (`wnut16`, `msra`); or
        dir: a folder holding train*, dev*/valid*, test* CoNLL files.
        reading: how text is read (`NerReading`: scheme, max_length, windows, stride, ...).
        training: how training items are made (`NerTraining`: running text, packing, ...).
        loader: how items are batched and loaded (`tunelab.data.settings.Loader`).
        sampling: K-shot samples (`tunelab.data.settings.Sampling`): the sentences in which
            every entity type occurs at least K times.
        labels: the label list to use (an existing model's); read from the training split if None.
        types: the entity types read, in every split; the others' tags read as O (None: all).
        step: continual learning, `{order, index, replay, seed}`: the training split is the share
            of step `index` of the type order, labelled with its type, plus `replay` sentences
            of earlier steps (`tunelab.tasks.ner.incremental`).
        unlabelled: a text file, one text a line, cut into words and added to the training
            items without labels: a distilled student learns the teacher's view of them
            (`tunelab distill`).
    """

    keep = ("sentence", "window")
    SPLIT_WORDS = True
    SETTINGS = {
        "reading": NerReading,
        "training": NerTraining,
        "loader": Loader,
        "sampling": Sampling,
    }

    def __init__(
        self,
        tokenizer: str,
        *,
        corpus: str | None = None,
        dir: str | None = None,
        reading: NerReading,
        training: NerTraining,
        loader: Loader,
        sampling: Sampling,
        labels: list[str] | None = None,
        types: list[str] | None = None,
        step: dict | None = None,
        unlabelled: str | None = None,
    ):
        super().__init__()
        self.keep_settings(locals())
        self._labels = list(labels) if labels is not None else None
        self._sentences: dict[str, list[Sentence]] = {}
        self.repairs: dict[str, int] = {}
        self.upper_cased: dict[str, int] = {}
        self.words_truncated: dict[str, int] = {}
        self._encoded: dict[str, list[dict]] = {}
        self._scheme: str | None = None
        self._eval_window: tuple[int, int] | None = None

    # -- reading -------------------------------------------------------------------------------
    def sentences(self, split: str) -> list[Sentence]:
        """The IOB2 sentences of a split (`train`, `dev`, `test` or any file stem), read once."""
        if split not in self._sentences:
            scheme = self.reading.scheme if split == "train" else self.scheme
            loaded = load_ner_splits([split], self.hparams.corpus, self.hparams.dir, scheme)
            sentences = self.incremental(split, loaded.sentences[split])
            chosen = self.k_shot_sample(
                split,
                [[span.type for span in tags_to_spans(s.tags)] for s in sentences],
                [f"{s.path}:{s.lines[0] if s.lines else 0}" for s in sentences],
                per_class=False,
            )
            self._sentences[split] = sentences if chosen is None else [sentences[i] for i in chosen]
            self.repairs[split] = loaded.repairs[split]
            self.upper_cased[split] = loaded.upper_cased[split]
            if split == "train":
                self._scheme = loaded.scheme
        return self._sentences[split]

    def incremental(self, split: str, sentences: list[Sentence]) -> list[Sentence]:
        """Class-incremental learning (`tunelab.tasks.ner.incremental`): the training split cut to
        one step's share (`step`), every split read with only `types` (others as O)."""
        step, types = self.hparams.get("step"), self.hparams.get("types")
        if types and split == "train":  # the whole split: a step's share lacks earlier types
            check_present([list(types)], entity_types(sentences), "data.types")
        if split == "train" and step:
            replay, seed = step.get("replay", 0), step.get("seed", 0)
            sentences = step_sentences(sentences, list(step["order"]), step["index"], replay, seed)
        if types:
            sentences = [keep_types(s, set(types)) for s in sentences]
        return sentences

    @property
    def scheme(self) -> str:
        """The files' tag scheme: as configured, or detected on the training split (so that every
        split is read alike), or on the split itself when there is no training file."""
        if self._scheme is None and self.reading.scheme == "auto":
            try:
                self.sentences("train")
            except TunelabError:
                return "auto"
        return self._scheme or self.reading.scheme

    @property
    def labels(self) -> list[str]:
        """Label list: given, or every entity type of the training split in IOB2."""
        if self._labels is None:
            types = {split_tag(t)[1] for s in self.sentences("train") for t in s.tags} - {""}
            self._labels = labels_from_types(types)
        return self._labels

    def use_labels(self, labels: list[str]) -> None:
        """Label ids from here on: a fine-tuned model's labels and the data's new ones."""
        self._labels = list(labels)

    def raw_texts(self, split: str) -> list[str]:
        """Each sentence's words joined by spaces, in file order."""
        return [" ".join(sentence.words) for sentence in self.sentences(split)]

    def references(self, split: str) -> list[list[str]]:
        """Gold IOB2 tags of each sentence of the split."""
        return [sentence.tags for sentence in self.sentences(split)]

    @property
    def window(self) -> tuple[int, int]:
        """(max_length, stride) of the windows that evaluation and prediction read with."""
        if self._eval_window is None:
            h = self.reading
            size = h.eval_window
            if size == "auto":
                try:
                    lengths = store.lengths(self.encoded("train")).tolist()
                except TunelabError:  # no training split to size them by
                    lengths = []
                size = eval_window_for(lengths, h.max_length)
                log.info("evaluation windows of %d sub-tokens (data.eval_window=auto)", size)
            if size is None or size == h.max_length:
                self._eval_window = (h.max_length, h.stride)
            else:
                self._eval_window = (int(size), int(size) // 2)
        return self._eval_window

    def input_settings(self) -> dict:
        """How to read text for this model: the evaluation windows as `max_length`/`stride`
        and the tag scheme as detected on the training split."""
        settings = super().input_settings()
        settings["max_length"], settings["stride"] = self.window
        lengths = sorted(store.lengths(self.encoded("train")).tolist())
        if lengths:  # a record, not a setting: what the windows were sized by
            settings["train_lengths"] = {
                "p50": lengths[len(lengths) // 2],
                "p99": lengths[int(0.99 * (len(lengths) - 1))],
                "max": lengths[-1],
            }
        settings["eval_window"] = None
        settings["scheme"] = self.scheme
        return settings

    def split_stats(self, split: str) -> dict[str, int]:
        """Counts reported beside the scores of a split."""
        return {
            "words_truncated": self.words_truncated.get(split, 0),
            "tags_repaired": self.repairs.get(split, 0),
            "tag_prefixes_upper_cased": self.upper_cased.get(split, 0),
        }

    @property
    def pad_values(self) -> dict[str, int]:
        return {"input_ids": self.tokenizer.pad_token_id, "labels": IGNORE, "word_index": -1}

    def train_collate(self, items: list[dict]):
        if not self.training.pack:
            return self.collate(items)
        return pack_batch(items, self.pad_values, self.keep, self.loader.pad_to_multiple_of)

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

    def encoded(self, split: str) -> ItemStore:
        """Tokenized and aligned sentences of a split."""
        if split not in self._encoded:
            inside_of = None
            if self.training.label_all_subtokens:
                index = {label: i for i, label in enumerate(self.labels)}
                inside_of = [index.get("I-" + label[2:], i) for i, label in enumerate(self.labels)]
            sentences = self.sentences(split)
            label_ids = self._label_ids(split)
            documents = [s.doc for s in sentences]
            words = [s.words for s in sentences]
            h = self.reading
            max_length, stride = (h.max_length, h.stride) if split == "train" else self.window
            stride = stride if h.windows else None

            def encode():
                items = alignment.encode_sentences(
                    self.tokenizer,
                    words,
                    label_ids,
                    max_length,
                    inside_of,
                    stride,
                    documents=documents,
                    context=h.context,
                    by_sentence=h.by_sentence and split != "train",
                )
                if split == "train" and self.training.running_text:
                    items = self._running_text(items, words, label_ids, documents, inside_of)
                if split == "train" and self.training.document_windows:
                    items += self._document_windows(words, label_ids, documents, inside_of)
                if unlabelled:
                    items += self._unlabelled_items(unlabelled, items, max_length, stride)
                for item in items:  # every item of a store has the same fields
                    item.setdefault("weight", 1)
                return [items]

            unlabelled = self.unlabelled_words() if split == "train" else []
            content = (words, label_ids, documents, inside_of, max_length, stride, unlabelled)
            items = self.cached_encoding(split, content, lambda notes: encode())
            self.words_truncated[split] = sum(store.column(items, "words_truncated"))
            if self.words_truncated[split]:
                log.warning(
                    "%s split: %d word(s) lie beyond max_length=%d sub-tokens (data.windows=false) "
                    "and are predicted as O",
                    split,
                    self.words_truncated[split],
                    max_length,
                )
            self._encoded[split] = items
        return self._encoded[split]

    def _running_text(self, items, words, label_ids, documents, inside_of) -> list[dict]:
        """Training items with runs of neighbouring sentences joined into one sequence
        (`windows.running_text_groups`): each sentence is still trained on once an epoch, but
        some of them without a sentence break around them, as in long documents. Only
        sentences of one document are joined: a `-DOCSTART-` document, or a file without
        those marks whose neighbouring sentences share words as running text does
        (`windows.neighbour_ratio`); unrelated sentences (tweets, samples) are never joined."""
        if not any(documents):
            ratio = neighbour_ratio(words)
            if ratio < IN_ORDER_RATIO:
                log.info(
                    "running text: no -DOCSTART- marks, and neighbouring training sentences "
                    "share words no more than distant ones (%.1fx, under %.0fx): they are not "
                    "joined",
                    ratio,
                    IN_ORDER_RATIO,
                )
                return items
            log.info(
                "running text: no -DOCSTART- marks, but neighbouring training sentences share "
                "words %.1fx as often as distant ones: read in order, as one document",
                ratio,
            )
            documents = [1] * len(documents)
        lengths = [len(ids) for ids in tokenized_words(self.tokenizer, words)[0]]
        size = min(self.training.running_length, self.reading.max_length) - 2
        groups = running_text_groups(lengths, documents, self.training.running_text, size)
        joined = {i for group in groups for i in group}
        log.info(
            "running text: %d of %d training sentences joined into %d runs",
            len(joined),
            len(words),
            len(groups),
        )
        kept = [item for item in items if item["sentence"] not in joined]
        return kept + self._joined(groups, words, label_ids, inside_of, weighted=True)

    def unlabelled_words(self) -> list[list[str]]:
        """`data.unlabelled`'s texts cut into words (`tunelab.data.words`), or none."""
        path = self.hparams.get("unlabelled")
        if not path:
            return []
        texts = read_unlabelled(path)
        log.info("data.unlabelled: %d texts without labels, taught by the teacher", len(texts))
        return [words for words in (split_words(text)[0] for _, text in texts) if words]

    def _unlabelled_items(self, words, items, max_length, stride) -> list[dict]:
        """Training items of sentences without labels (every word `UNLABELLED`), each its own
        sequence (never joined to its neighbours), numbered after the other items."""
        added = alignment.encode_sentences(
            self.tokenizer, words, [[UNLABELLED] * len(w) for w in words], max_length, None, stride
        )
        first = 1 + max((item["sentence"] for item in items), default=-1)
        for item in added:
            item["sentence"] += first
        return added

    def _document_windows(self, words, label_ids, documents, inside_of) -> list[dict]:
        """Training items from whole documents: each document's sentences joined into one
        sequence and cut into overlapping windows."""
        return self._joined(by_document(documents), words, label_ids, inside_of, weighted=False)

    def _joined(self, groups, words, label_ids, inside_of, weighted: bool) -> list[dict]:
        """Items of each group of sentences joined into one sequence (cut into windows when
        longer than max_length), numbered after the sentences. `weighted`: each item stands for
        its group's sentences in the count of a training batch (`train_batch_size`)."""
        items = alignment.encode_sentences(
            self.tokenizer,
            [[word for i in group for word in words[i]] for group in groups],
            [[label for i in group for label in label_ids[i]] for group in groups],
            self.reading.max_length,
            inside_of,
            self.reading.stride,
        )
        for item in items:
            if weighted:
                item["weight"] = len(groups[item["sentence"]])
            item["sentence"] += len(words)
        return items
