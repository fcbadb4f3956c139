"""DataModule for text classification (single- or multi-label) on tables or packaged corpora."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator

from tunelab.data.alignment import UNLABELLED
from tunelab.data.base import TaskDataModule
from tunelab.data.cache import content_digest
from tunelab.data.incremental import check_present, step_order, step_share
from tunelab.data.settings import Loader, Sampling
from tunelab.data.splits import find_split_file
from tunelab.data.store import TEXTS_PER_CHUNK, ItemStore, batched
from tunelab.data.stream import Streaming
from tunelab.data.tables import Example, iter_table, read_table
from tunelab.data.text_splits import load_examples
from tunelab.data.unlabelled import read_unlabelled
from tunelab.errors import CorpusError, TunelabError
from tunelab.tasks.classification import encoding
from tunelab.tasks.classification.reading import LONG_TEXT, TextReading

log = logging.getLogger(__name__)


class SequenceClassificationDataModule(Streaming, TaskDataModule):
    """Reads, tokenizes and batches labelled texts.

    Args:
        tokenizer: model id or folder whose tokenizer to use (normally the model's).
        corpus: a packaged corpus (`rotten_tomatoes`, `bbc_news`); or
        dir: a folder of CSV/TSV/JSONL files: train*, dev*/valid*, test*.
        reading: how the files and texts are read (`TextReading`: columns, label names,
            long-text strategy, max_length, ...).
        loader: how items are batched and loaded (`tunelab.data.settings.Loader`).
        sampling: K-shot samples (`tunelab.data.settings.Sampling`): exactly K texts per class
            (multi-label: every label at least K times).
        labels: the label list to use (an existing model's); read from the training split if None.
        classes, step: as the NER DataModule's `types` and `step`, by class: texts of other
            classes are dropped (single-label data only).
        extra_train: a table (text, label and, for pairs, text_pair columns; labels as named
            here) added to the training split: `tunelab-continual`'s replay memory of other
            datasets.
        unlabelled: a text file, one text a line, added to the training split without labels:
            a distilled student learns the teacher's view of them (`tunelab distill`).
    """

    keep = ("label", "example", "window")
    SETTINGS = {"reading": TextReading, "loader": Loader, "sampling": Sampling}
    DEFAULTS = {"group_by_length": 50}
    ENCODING = (encoding,)

    def __init__(
        self,
        tokenizer: str,
        *,
        corpus: str | None = None,
        dir: str | None = None,
        reading: TextReading,
        loader: Loader,
        sampling: Sampling,
        labels: list[str] | None = None,
        classes: list[str] | None = None,
        step: dict | None = None,
        extra_train: str | None = None,
        unlabelled: str | None = None,
    ):
        super().__init__()
        if reading.long_text not in LONG_TEXT:
            raise TunelabError(
                f"data.long_text={reading.long_text!r}; choose one of {', '.join(LONG_TEXT)}"
            )
        self.keep_settings(locals())
        self._labels = list(labels) if labels is not None else None
        self._examples: dict[str, list[Example]] = {}
        self._encoded: dict[str, list[dict]] = {}
        self.texts_truncated: dict[str, int] = {}

    def examples(self, split: str) -> list[Example]:
        """Examples of a split with label names applied, read once."""
        if split not in self._examples:
            h, r = self.hparams, self.reading
            examples = load_examples(
                split, h.corpus, h.dir, r.text_column, r.label_column, r.text_pair_column
            )
            names = {str(k): str(v) for k, v in (r.label_names or {}).items()}
            for example in examples:
                example.label = names.get(example.label, example.label)
            examples = self.incremental(split, examples)
            if split == "train" and h.get("extra_train"):
                pair = "text_pair" if r.text_pair_column else None
                examples += read_table(h.extra_train, "text", "label", pair)
            chosen = None
            if self.sampling.k_shot:  # the lists below are built only for a K-shot run
                chosen = self.k_shot_sample(
                    split,
                    [self.label_set(e) for e in examples],
                    [f"{e.path}:{e.row}" for e in examples],
                    per_class=not r.multi_label,
                )
            examples = examples if chosen is None else [examples[i] for i in chosen]
            if split == "train" and h.get("unlabelled"):
                examples += self.unlabelled_examples(h.unlabelled)
            self._examples[split] = examples
        return self._examples[split]

    def unlabelled_examples(self, path: str) -> list[Example]:
        """`data.unlabelled`'s texts as training examples without a label (None)."""
        if self.reading.multi_label or self.reading.text_pair_column:
            raise TunelabError("data.unlabelled adds single texts to single-label data only")
        texts = read_unlabelled(path)
        log.info("data.unlabelled: %d texts without labels, taught by the teacher", len(texts))
        return [Example(text, None, path=path, row=row) for row, text in texts]

    def incremental(self, split: str, examples: list[Example]) -> list[Example]:
        """Class-incremental learning (`tunelab.data.incremental`): the training split cut to
        the texts of one step's classes plus a replay sample of earlier steps' (`step`), every
        split to the texts of `classes`."""
        step, classes = self.hparams.get("step"), self.hparams.get("classes")
        if (step or classes) and self.reading.multi_label:
            raise TunelabError("class-incremental learning takes single-label data")
        present = {e.label for e in examples}
        if classes and split == "train":  # the whole split: a step's share lacks earlier classes
            check_present([list(classes)], present, "data.classes")
        if split == "train" and step:
            order = step_order(list(step["order"]), "data.step.order")
            check_present(order, present, "continual.order")
            index = {label: i for i, labels in enumerate(order) for label in labels}
            steps = [index.get(e.label) for e in examples]
            replay, seed = step.get("replay", 0), step.get("seed", 0)
            examples = [
                examples[i] for i in step_share(steps, step["index"], len(order), replay, seed)
            ]
        if classes:
            examples = [e for e in examples if e.label in set(classes)]
        return examples

    def label_set(self, example: Example) -> list[str]:
        if example.label is None:  # data.unlabelled
            return []
        if not self.reading.multi_label:
            return [example.label]
        return [p.strip() for p in example.label.split(self.reading.label_separator) if p.strip()]

    @property
    def labels(self) -> list[str]:
        """Label list: given, or every label of the training split, sorted."""
        if self._labels is None:
            rows = self.stream_rows() if self.streams else self.examples("train")
            found = {label for e in rows for label in self.label_set(e)}
            self._labels = sorted(found)
        return self._labels

    def use_labels(self, labels: list[str]) -> None:
        """Label ids from here on: a fine-tuned model's labels and the data's new ones."""
        self._labels = list(labels)

    def label_counts(self) -> list[int]:
        """Training examples per label, in label order (for class weights)."""
        rows = self.stream_rows() if self.streams else self.examples("train")
        counts = Counter(label for e in rows for label in self.label_set(e))
        return [counts[label] for label in self.labels]

    def targets(self, split: str) -> list:
        """Label id per example, or a multi-hot list per example (multi-label)."""
        index = {label: i for i, label in enumerate(self.labels)}
        return [self.target(example, index, split) for example in self.examples(split)]

    def target(self, example: Example, index: dict, split: str):
        if example.label is None:  # data.unlabelled
            return UNLABELLED
        ids = []
        for label in self.label_set(example):
            if label not in index:
                raise CorpusError(
                    example.path,
                    example.row,
                    f"label {label!r} ({split} split) never occurs in the training labels "
                    f"({', '.join(self.labels)})",
                )
            ids.append(index[label])
        if self.reading.multi_label:
            return [1.0 if i in ids else 0.0 for i in range(len(index))]
        return ids[0]

    def stream_rows(self) -> Iterator[Example]:
        """The training table's rows, read from its file as they are needed (`data.streaming`)."""
        h, r, refused = self.hparams, self.reading, None
        if h.dir is None:
            refused = "a packaged corpus (it is small: leave data.streaming off)"
        elif self.sampling.k_shot or any(
            h.get(key) for key in ("step", "classes", "extra_train", "unlabelled")
        ):
            refused = (
                "a K-shot sample, a continual-learning step or added texts (they pick from or "
                "add to the whole split)"
            )
        elif self.loader.label_pairs:
            refused = "same-label pairs (data.label_pairs, method=setfit)"
        if refused:
            raise TunelabError(
                f"data.streaming=true reads a data.dir table in order, not {refused}"
            )
        names = {str(k): str(v) for k, v in (r.label_names or {}).items()}
        path = find_split_file(h.dir, "train")
        for example in iter_table(path, r.text_column, r.label_column, r.text_pair_column):
            example.label = names.get(example.label, example.label)
            yield example

    def stream_chunks(self) -> Iterator[list[dict]]:
        index = {label: i for i, label in enumerate(self.labels)}
        rows = ((e, self.target(e, index, "train")) for e in self.stream_rows())
        return self._chunks(rows, {})

    def references(self, split: str) -> list:
        return self.targets(split)

    def raw_texts(self, split: str) -> list[str]:
        """Each example's text (and its second text, for pair tasks), in file order."""
        return [t for e in self.examples(split) for t in (e.text, e.text_pair) if t]

    def fit_arguments(self) -> dict:
        return {"label_counts": self.label_counts()}

    def split_stats(self, split: str) -> dict[str, int]:
        """Counts reported beside the scores of a split."""
        return {"texts_truncated": self.texts_truncated.get(split, 0)}

    @property
    def pad_values(self) -> dict[str, int]:
        values = {"input_ids": self.tokenizer.pad_token_id}
        if self.reading.text_pair_column:
            values["token_type_ids"] = 0
        return values

    def encoded(self, split: str) -> ItemStore:
        if split not in self._encoded:
            examples, targets = self.examples(split), self.targets(split)
            content = content_digest(
                (e.text, e.text_pair, t) for e, t in zip(examples, targets, strict=True)
            )
            items = self.cached_encoding(
                split,
                content,
                lambda notes: self._chunks(zip(examples, targets, strict=True), notes),
            )
            self._encoded[split] = items
            self._count_truncated(split, items.notes["truncated"], len(examples))
        return self._encoded[split]

    def _chunks(self, rows: Iterable[tuple[Example, object]], notes: dict):
        """The items of (example, target) `rows`, `TEXTS_PER_CHUNK` texts at a time;
        `notes["truncated"]`: how many texts exceed `max_length`."""
        h, truncated, start = self.reading, 0, 0
        for chunk in batched(rows, TEXTS_PER_CHUNK):
            items, flags = encoding.encode_texts(
                self.tokenizer,
                [e.text for e, _ in chunk],
                [e.text_pair for e, _ in chunk] if h.text_pair_column else None,
                [target for _, target in chunk],
                h.max_length,
                h.stride,
                h.long_text,
            )
            for item in items:
                item["example"] += start
            truncated, start = truncated + sum(flags), start + len(chunk)
            yield items
        notes["truncated"] = truncated

    def _count_truncated(self, split: str, truncated: int, texts: int) -> None:
        self.texts_truncated[split] = truncated
        if truncated:
            log.info(
                "%s split: %d of %d texts exceed max_length=%d (data.long_text=%s)",
                split,
                truncated,
                texts,
                self.reading.max_length,
                self.reading.long_text,
            )
