"""The task registry: all that train, eval, predict, rundir, loading and sweep know of a task.

Each task is one package (`tunelab.tasks.ner`, `tunelab.tasks.classification`, or a package of
your own) that builds a `Task` and passes it to `register` when imported. A config names its task
(`task: ner`, set by the data preset); `get` imports `tunelab.tasks.<name>`, or the module of that
dotted name, the first time it is asked for. docs/architecture.md shows how to add one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelab.errors import TunelabError


@dataclass(frozen=True)
class FileJob:
    """What `tunelab-predict` asks of a task's `predict`: a file to label and where to write the
    records (a task never reads the command's config)."""

    input: Path
    output: Path
    format: str = "text"  # NER: text | conll
    errors: str = "strict"  # strict | replace: invalid UTF-8 in the input
    batch_size: int = 64
    max_tokens: int | None = 2048


@dataclass(frozen=True)
class Incremental:
    """How a task learns its labels a step at a time (`tunelab-continual`).

    Attributes:
        subset_key: the data key that reads only some labels, the others dropped or read as
            nothing (`types` for NER, `classes` for classification).
        micro_metric: the test score over all labels a step is judged by.
        first_step: labels the first step needs at least (a classifier needs two).
        by_example: a step's training share is the examples of its labels (one label an
            example), not a part of all examples.
        present: `datamodule -> labels` its training split holds.
        model_labels: `label -> the model's label names for it` (NER: `B-PER`).
        replay_across_datasets: replay and joint across datasets (`continual.steps`) work.
    """

    subset_key: str
    micro_metric: str
    first_step: int
    by_example: bool
    present: Callable[[Any], set[str]]
    model_labels: Callable[[str], list[str]]
    replay_across_datasets: bool


@dataclass(frozen=True)
class Method:
    """One way to learn a task (`method=NAME`): the module that learns it that way.

    Attributes:
        name: what configs and exported models call it (`method: setfit`).
        module: class path of its LightningModule.
        architectures: endings of the Hugging Face architecture names its exports hold (a
            SetFit export is a plain encoder, a prompt export a masked LM); empty: not checked.
        build: what `conf/method/NAME.yaml` builds, where not the module itself (a function
            that picks the module, as zero-shot picks entailment for an NLI model).
        reading: (data key, value) pairs the method reads text with where the command line
            does not say (`tunelab-eval zero_shot=true`; its conf/method yaml sets the same).
    """

    name: str
    module: str
    architectures: tuple[str, ...] = ()
    build: str | None = None
    reading: tuple[tuple[str, Any], ...] = ()

    def builder(self) -> Callable:
        """The callable that builds a module of this method from the labels and settings."""
        path = self.build or self.module
        module_path, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module_path), name)

    def module_class(self) -> type:
        module_path, _, class_name = self.module.rpartition(".")
        return getattr(importlib.import_module(module_path), class_name)


@dataclass(frozen=True)
class Agreement:
    """How a task's decisions agree with the gold ones, item by item: what error bars resample
    and `tunelab-compare` pairs (`tunelab.trust.bootstrap`).

    Attributes:
        decisions: `(module, prefix) -> (gold, pred)`, one entry per item of the module's last
            scoring of `prefix`.
        read_predictions: `(run_dir, split) -> (gold, pred)` from the run's predictions file.
        item_counts: `(gold, pred) -> ItemCounts`: per-item counts and the scores they sum to.
    """

    decisions: Callable[..., tuple]
    read_predictions: Callable[..., tuple]
    item_counts: Callable[..., Any]


FINETUNE = "finetune"  # every task's own method: its module with its own head


@dataclass(frozen=True)
class Task:
    """One task family.

    Attributes:
        name: what configs and exported models call it (`task: ner`).
        module: class path of its LightningModule (a `tunelab.models.base.TaskModule`).
        architectures: endings of the Hugging Face architecture names it exports
            (`ForTokenClassification`): how a model exported without `tunelab.json` is recognised.
        write_outputs: `(run_dir, module, datamodule, split) -> report`: the task's prediction
            files and per-label report in a run directory (metrics.json is written for it).
        predict: `(module, tokenizer, settings, job: FileJob) -> number of records`: the task's
            own file formats for `tunelab-predict` (NER: `format=conll`); text lines and
            tables go through `label_texts` for every task. `settings` is how the model reads
            input (`tunelab.json`). None: none of its own.
        headline: the test metrics a one-line summary and a sweep table show, main one first.
        score_file: `(path, scheme, run_dir) -> (metrics, report, note)`: score a file of
            another system's predictions (`tunelab-eval predictions=FILE`); None if the task
            has no such format.
        continual: how it learns labels a step at a time; None: it does not.
        pipeline: the Hugging Face pipeline its exported models serve (the model card's
            `pipeline_tag`); None: none of them.
        methods: the ways to learn it besides fine-tuning its own module (`method=`).
        label_texts: `(module, tokenizer, settings, texts, pairs, batch_size, max_tokens) ->
            records`: label texts in memory (`tunelab.Predictor`, `tunelab-serve`), one JSON-ready
            dict per text, as `tunelab-predict` writes them.
        embed_texts: `(module, tokenizer, settings, texts, batch_size, max_tokens) -> [texts,
            dim]`: one vector per text, for search (`tunelab assistant`); None: the task's
            models embed no texts.
        agreement: item-by-item agreement with the gold labels, for error bars and paired
            comparisons; None: scores without intervals.
        explain_texts: `(module, tokenizer, settings, texts, steps) -> records`: each text's
            decisions with each word's attribution (`tunelab.trust.explain`); None: the task's
            models explain nothing.
        distill: the `tunelab train` overrides with which a student learns from a teacher on
            every item (`tunelab distill`); None: the task's models are not distilled.
    """

    name: str
    module: str
    architectures: tuple[str, ...]
    write_outputs: Callable[..., str]
    headline: tuple[str, ...]
    predict: Callable[..., int] | None = None
    score_file: Callable[..., tuple] | None = None
    label_texts: Callable[..., list[dict]] | None = None
    embed_texts: Callable[..., Any] | None = None
    agreement: Agreement | None = None
    explain_texts: Callable[..., list[dict]] | None = None
    distill: tuple[str, ...] | None = None
    continual: Incremental | None = None
    pipeline: str | None = None
    methods: tuple[Method, ...] = ()

    def method(self, name: str | None = None) -> Method:
        """The method called `name` (None: fine-tuning)."""
        if name in (None, FINETUNE):
            return Method(FINETUNE, self.module, self.architectures)
        for method in self.methods:
            if method.name == name:
                return method
        known = ", ".join([FINETUNE, *(m.name for m in self.methods)])
        raise TunelabError(f"method={name} is not a way to learn {self.name}; its methods: {known}")

    def module_class(self, method: str | None = None) -> type:
        return self.method(method).module_class()


_TASKS: dict[str, Task] = {}
BUILT_IN = ("ner", "classification", "mlm")
# Task names of models exported before methods were apart from tasks: classification, learnt
# by the method of the same name.
RENAMED = {"setfit": "classification", "prompt": "classification", "zero_shot": "classification"}


def register(task: Task) -> Task:
    """Make `task` known by its name (a later registration of the same name replaces it)."""
    _TASKS[task.name] = task
    return task


def get(name: str, named_by: str | None = None) -> Task:
    """The task called `name`, importing its package the first time.

    `named_by`: the file that names the task (a checkpoint, `tunelab.json`, a run's config). A file
    may only name a task already registered in this process or one of tunelab's own (`BUILT_IN`,
    an exact list): importing any other module would run code that a file chose.
    """
    name = RENAMED.get(name, name)
    if name not in _TASKS:
        if named_by:
            candidates = [f"tunelab.tasks.{name}"] if name in BUILT_IN else []
        else:
            candidates = [f"tunelab.tasks.{name}", name]
        for candidate in candidates:
            try:
                importlib.import_module(candidate)
            except ImportError:
                continue
            if name in _TASKS:
                break
    if name not in _TASKS and named_by:
        raise TunelabError(
            f"{named_by} names task {name!r}, which is not one of tunelab's: importing it would "
            f"run code a file chose; if you trust it, name it yourself (task={name})"
        )
    if name not in _TASKS:
        raise TunelabError(f"unknown task {name!r}; known: {', '.join(sorted(known()))}")
    return _TASKS[name]


def known() -> list[str]:
    for name in BUILT_IN:
        get(name)
    return sorted(_TASKS)


def of_architecture(architecture: str) -> Task:
    """The task whose exported models have this architecture name."""
    for name in known():
        if architecture.endswith(_TASKS[name].architectures):
            return _TASKS[name]
    raise TunelabError(f"no tunelab task exports a {architecture or 'model without architecture'}")


def summary(task: Task, metrics: dict[str, Any]) -> str:
    """One line with the task's headline test scores."""
    shown = [f"{key} {metrics[key]:.4f}" for key in task.headline if key in metrics]
    return ", ".join(shown) or "no test scores"
