"""The settings objects every DataModule shares, and how flat `data.*` keys become them.

Users write flat keys (`data.batch_size=16`, `data.k_shot=8`, `data.max_length=128`); a
DataModule's constructor takes a few typed objects instead: its task's reading settings
(`tunelab.tasks.<task>.reading`), how items are batched and loaded (`Loader`) and which
examples a K-shot run keeps (`Sampling`). `from_keys` sorts the flat keys into them, once for
every DataModule. The presets' YAML repeats these defaults for `--help`
(conf/data/parts/; a test keeps the two equal)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tunelab.errors import TunelabError


@dataclasses.dataclass(frozen=True)
class Loader:
    """How items are batched and loaded: never part of how a model reads text.

    Attributes:
        batch_size: texts per training batch; eval_batch_size: items per evaluation batch.
        eval_max_tokens: evaluation batches (sorted by length) also stop at this many positions
            once padded (None: eval_batch_size always). On one process only: under DDP every
            rank must run as many batches.
        group_by_length: training batches are cut from pools of this many batches sorted by
            length, so they need little padding (0: plain random batches).
        label_pairs: training batches are made of pairs of texts with the same label (where a
            label has two left), so a contrastive batch of many classes holds positive pairs.
        pad_to_multiple_of: round padded lengths up (8 suits mixed precision).
        test_split: the split (file stem) that `test` reads, e.g. `test_long`.
        num_workers: DataLoader workers.
        cache_dir: keep tokenized splits here (`tunelab.data.cache`); None: tokenize every run.
    """

    batch_size: int = 32
    eval_batch_size: int = 64
    eval_max_tokens: int | None = 2048
    group_by_length: int = 0
    label_pairs: bool = False
    pad_to_multiple_of: int | None = None
    test_split: str = "test"
    num_workers: int = 0
    cache_dir: str | None = None


@dataclasses.dataclass(frozen=True)
class Sampling:
    """Which examples a K-shot run trains and validates on (`tunelab.data.k_shot`).

    Attributes:
        k_shot: K: train and dev on K-shot samples of their splits (K per class; NER: every
            entity type at least K times); test untouched. None: every example.
        k_shot_seed: the seed the samples are drawn with (the run's seed by default).
        k_shot_epoch_steps: a K-shot epoch passes over the sample until it holds this many
            batches (None: once).
    """

    k_shot: int | None = None
    k_shot_seed: int = 0
    k_shot_epoch_steps: int | None = 20


def layout(default: Any) -> Any:
    """A reading setting that says how a corpus's files are laid out (a column, raw label names):
    it belongs to the files, so a model's own value never applies to other files."""
    return dataclasses.field(default=default, metadata={"layout": True})


def layout_keys(kind: type) -> set[str]:
    return {f.name for f in dataclasses.fields(kind) if f.metadata.get("layout")}


def config_target(class_path: str) -> str:
    """The `_target_` that builds the DataModule `class_path` from flat `data.*` keys."""
    return f"{class_path}.from_config"


def names(kind: type) -> tuple[str, ...]:
    """The flat keys a settings object takes."""
    return tuple(field.name for field in dataclasses.fields(kind))


def from_keys(groups: dict[str, type], keys: dict[str, Any], owner: str) -> dict[str, Any]:
    """Constructor arguments from flat keys: each settings object of `groups` (parameter name ->
    dataclass) built from the keys that are its fields, the other keys as they are. A key two
    objects claim is a programming error: each setting has one owner."""
    arguments = dict(keys)
    claimed: dict[str, str] = {}
    for parameter, kind in groups.items():
        fields = names(kind)
        for name in fields:
            if name in claimed:
                raise AssertionError(f"{owner}: {name} belongs to {claimed[name]} and {parameter}")
            claimed[name] = parameter
        arguments[parameter] = kind(**{k: arguments.pop(k) for k in fields if k in arguments})
    return arguments


def flat(**settings: Any) -> dict[str, Any]:
    """The flat record of settings objects and plain values (a checkpoint's hyperparameters,
    the cache key): what `from_keys` reads back."""
    record = {}
    for name, value in settings.items():
        if dataclasses.is_dataclass(value):
            record.update(dataclasses.asdict(value))
        else:
            record[name] = value
    return record


def unknown_setting(owner: str, key: str, known: list[str]) -> TunelabError:
    return TunelabError(f"data.{key} is not a setting of {owner}; its settings: {', '.join(known)}")
