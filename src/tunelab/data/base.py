"""What the NER and classification DataModules share: tokenizer, loaders, stage set-up."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from transformers import AutoTokenizer

from tunelab.data.alignment import words_as_in_text
from tunelab.data.batching import budget_batches, pad_batch
from tunelab.data.cache import cache_key, cached
from tunelab.data.k_shot import greedy_sample, per_class_sample, sample_rng
from tunelab.data.registry import from_pretrained
from tunelab.data.settings import (
    Loader,
    Sampling,
    flat,
    from_keys,
    layout_keys,
    names,
    unknown_setting,
)
from tunelab.data.store import ItemStore, column, lengths

log = logging.getLogger(__name__)


class EpochShuffle(Sampler[int]):
    """Training order drawn from (seed, epoch) alone, never from the global random state.

    A run resumed in mid-epoch therefore sees the same order as the uninterrupted run, and skips
    the batches it already trained on (`position` says which epoch and how many batches).

    With `lengths` and `pool` > 0, batches are grouped by length: the shuffled items are cut into
    pools of `pool` batches, each pool is sorted by length and cut into batches, and the batches
    are shuffled (the one short batch stays last). Batches then hold items of similar length and
    need little padding, while every epoch still mixes all lengths in random order.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        seed: int,
        position,
        lengths: list[int] | None = None,
        pool: int = 0,
        passes: int = 1,
        labels: list | None = None,
    ):
        self.size, self.batch_size, self.seed, self.position = size, batch_size, seed, position
        self.lengths, self.pool, self.passes, self.labels = lengths, pool, passes, labels

    def __iter__(self):
        epoch, batches_done = self.position()
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        order = []
        for _ in range(self.passes):
            once = torch.randperm(self.size, generator=generator).tolist()
            if self.labels is not None:
                once = self._paired(once, generator)
            elif self.lengths is not None and self.pool > 0:
                once = self._grouped(once, generator)
            order += once
        return iter(order[batches_done * self.batch_size :])

    def _paired(self, order: list[int], generator: torch.Generator) -> list[int]:
        """The shuffled order rearranged into pairs of items with one label (a label's odd one
        out alone), the pairs in random order."""
        by_label: dict = {}
        for index in order:
            label = self.labels[index]
            by_label.setdefault(tuple(label) if isinstance(label, list) else label, []).append(
                index
            )
        pairs = [same[i : i + 2] for same in by_label.values() for i in range(0, len(same), 2)]
        return [
            i for k in torch.randperm(len(pairs), generator=generator).tolist() for i in pairs[k]
        ]

    def _grouped(self, order: list[int], generator: torch.Generator) -> list[int]:
        pool_size = self.pool * self.batch_size
        batches = []
        for start in range(0, len(order), pool_size):
            pool = sorted(order[start : start + pool_size], key=self.lengths.__getitem__)
            batches += [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
        short = [batches.pop()] if batches and len(batches[-1]) < self.batch_size else []
        shuffled = [batches[i] for i in torch.randperm(len(batches), generator=generator)]
        return [index for batch in shuffled + short for index in batch]

    def __len__(self) -> int:
        return self.size * self.passes


class ItemBatches(Dataset):
    """Evaluation batches: entry j is the items at the j-th list of indices, read when loaded."""

    def __init__(self, items, batches: list[list[int]]) -> None:
        self.items, self.batches = items, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> list[dict]:
        return [self.items[i] for i in self.batches[index]]


# Settings that change how items are batched, not what they hold.
LOADER_SETTINGS = {*names(Loader), "pack", "k_shot_epoch_steps", "streaming", "shuffle_buffer"}
# Settings of what a run trained on, not of how a model reads text: not carried by the model.
SAMPLE_SETTINGS = {*names(Sampling), "types", "step"}


class TaskDataModule(pl.LightningDataModule):
    """Subclasses define `encoded(split)` (the split's items, an `ItemStore`), `pad_values` and
    `keep` (the fields `pad_batch` pads and stacks), and read their splits lazily.

    Their constructors take settings objects (`SETTINGS`: their task's reading settings, a
    `Loader`, a `Sampling`) and pass their arguments to `keep_settings(locals())`. The
    configs build them with `from_config`, from flat `data.*` keys.
    """

    keep: tuple[str, ...] = ()
    # the training split is read while training (a stream of unknown length), not encoded first
    streams = False
    # the settings objects the constructor takes, by parameter name
    SETTINGS: dict[str, type] = {"loader": Loader, "sampling": Sampling}
    # this task's defaults where they differ from the shared objects' own
    DEFAULTS: dict[str, Any] = {}
    # the task's modules whose code decides what an encoded item holds, beside the DataModule's
    # own (part of the cache key: a change to them misses the cache)
    ENCODING: tuple = ()
    SPLIT_WORDS = False  # input comes split into words (NER): read them as in running text
    # the arguments that say which files are read (not how): a model's own apply to its own
    # files only
    SOURCE: tuple[str, ...] = ("corpus", "dir")

    def __init__(self):
        super().__init__()
        self._tokenizer = None
        self.k_shot_samples: dict[str, dict] = {}
        # tunelab-train seeds everything just before building the DataModule.
        self.shuffle_seed = torch.initial_seed()
        self.loader, self.sampling = Loader(), Sampling()

    @classmethod
    def from_config(cls, tokenizer: str, **keys: Any) -> TaskDataModule:
        """The DataModule for flat `data.*` keys, as the configs give them (`_target_:
        <class>.from_config`): each settings object built from its own keys."""
        known = cls.setting_names()
        for key in keys:
            if key not in known:
                raise unknown_setting(cls.__name__, key, sorted(known - {"tokenizer"}))
        arguments = from_keys(cls.SETTINGS, {**cls.DEFAULTS, **keys}, cls.__name__)
        return cls(tokenizer, **arguments)

    @classmethod
    def setting_names(cls) -> set[str]:
        """Every flat key `from_config` takes."""
        own = set(inspect.signature(cls.__init__).parameters) - {"self", *cls.SETTINGS}
        return own | {name for kind in cls.SETTINGS.values() for name in names(kind)}

    @classmethod
    def file_keys(cls) -> set[str]:
        """The settings that belong to the files rather than to the model: which files
        (`SOURCE`) and how they are laid out (`tunelab.data.settings.layout`)."""
        layouts = {key for kind in cls.SETTINGS.values() for key in layout_keys(kind)}
        return set(cls.SOURCE) | layouts

    def keep_settings(self, arguments: dict[str, Any]) -> None:
        """Keep the constructor's `arguments` (its `locals()`): each settings object as the
        attribute of its parameter's name, and all but `labels` flat as the hyperparameters
        (the checkpoint's record and the cache key hold plain values only)."""
        names = [name for name in inspect.signature(type(self).__init__).parameters]
        settings = {name: arguments[name] for name in names if name not in ("self", "labels")}
        for name, value in settings.items():
            if dataclasses.is_dataclass(value):
                setattr(self, name, value)
        self.save_hyperparameters(flat(**settings))

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = from_pretrained(AutoTokenizer, self.hparams.tokenizer)
            if self.SPLIT_WORDS:  # set before any cache key is taken from it
                self._tokenizer = words_as_in_text(self._tokenizer)
        return self._tokenizer

    @property
    def pad_values(self) -> dict[str, int]:
        return {"input_ids": self.tokenizer.pad_token_id}

    def encoded(self, split: str) -> ItemStore:
        """The split's items, tokenized once (`cached_encoding`) and read from disk."""
        raise NotImplementedError

    def references(self, split: str) -> list:
        """What a module scores its predictions on `split` against, one entry per item."""
        raise NotImplementedError

    def raw_texts(self, split: str) -> list[str]:
        """The split's texts without labels (masked-LM training on a labelled preset's text,
        `data=text data.from=PRESET`)."""
        raise NotImplementedError

    def fit_arguments(self) -> dict:
        """Extra module arguments known only from the training data (e.g. label counts)."""
        return {}

    def input_settings(self) -> dict:
        """How the data was read, for the model to carry (`tunelab.json`): this DataModule's
        class and settings, less the tokenizer (the model's own), how items are batched and where
        the cache is. `tunelab-eval model_dir=...` and `tunelab-predict` start from them."""
        cls = type(self)
        settings = {"datamodule": f"{cls.__module__}.{cls.__qualname__}"}
        skipped = LOADER_SETTINGS | SAMPLE_SETTINGS | {"tokenizer"}
        settings.update({k: v for k, v in self.hparams.items() if k not in skipped})
        return settings

    def k_shot_sample(
        self, split: str, mentions: list[list[str]], places: list[str], per_class: bool
    ) -> list[int] | None:
        """Which of a split's examples a K-shot run keeps (`data.k_shot`, train and dev only;
        None: all), drawn from `data.k_shot_seed` alone, logged and kept in `k_shot_samples`.

        `mentions`: each example's classes or entity types, once per occurrence; `places`:
        where each example was read (`file:line`). `per_class`: exactly K per class (one label
        per example); otherwise the greedy sampler (every type at least K times).
        """
        k, seed = self.sampling.k_shot, self.sampling.k_shot_seed
        if not k or split not in ("train", "dev"):
            return None
        where = f"the {split} split ({places[0].rpartition(':')[0] if places else 'empty'})"
        rng = sample_rng(seed, split)
        if per_class:
            # dev splits are often smaller than K a class: their rare classes are kept whole
            labels = [m[0] for m in mentions]
            chosen = per_class_sample(labels, k, rng, where, at_most=split == "dev")
        else:
            chosen = greedy_sample(mentions, k, rng, where)
        counts = Counter(kind for i in chosen for kind in mentions[i])
        self.k_shot_samples[split] = {
            "examples": len(chosen),
            "of": len(mentions),
            "counts": dict(sorted(counts.items())),
            "indices": chosen,
            "places": [places[i] for i in chosen],
        }
        log.info(
            "k-shot sample (data.k_shot=%d, data.k_shot_seed=%d): %s split %d of %d examples (%s)",
            k,
            seed,
            split,
            len(chosen),
            len(mentions),
            ", ".join(f"{name} {n}" for name, n in sorted(counts.items())),
        )
        return chosen

    def sample_stats(self) -> dict[str, int]:
        """`data/train_examples` and `data/dev_examples` of a K-shot run (metrics.json)."""
        return {f"data/{s}_examples": v["examples"] for s, v in self.k_shot_samples.items()}

    def cached_encoding(self, split: str, content, produce) -> ItemStore:
        """The items of a split whose words/texts and labels are `content`: `produce(notes)`
        yields them in chunks (lists of item dicts) and may record counts in `notes`; they are
        kept on disk (`tunelab.data.store`), read from the cache in `cache_dir` when the
        tokenizer, settings and content match."""
        settings = {k: v for k, v in self.hparams.items() if k not in LOADER_SETTINGS}
        code = (Path(inspect.getfile(type(self))), *(Path(m.__file__) for m in self.ENCODING))
        key = cache_key(self.tokenizer, settings, content, code)
        return cached(self.loader.cache_dir, split, key, produce)

    def setup(self, stage: str | None = None) -> None:
        wanted = {
            "fit": ["train", "dev"],
            "validate": ["dev"],
            "test": [self.loader.test_split],
        }.get(stage, [])
        for split in wanted:
            if not (split == "train" and self.streams):  # a stream is read while training
                self.encoded(split)

    def collate(self, items: list[dict]):
        return pad_batch(items, self.pad_values, self.keep, self.loader.pad_to_multiple_of)

    def train_collate(self, items: list[dict]):
        return self.collate(items)

    def _loader(self, split: str, shuffle: bool, batch_size: int) -> DataLoader:
        items = self.encoded(split)
        generator = torch.Generator().manual_seed(self.shuffle_seed % 2**63)
        sizes = lengths(items)
        if not shuffle:
            # Evaluation: items in order of length cut into token-limited batches (less padding;
            # results are put back by index). The loader yields whole batches, so that under DDP
            # each rank gets whole batches of this same list, and every item is scored in the
            # batch, with the padding, that one process gives it: equal scores in any precision.
            order = np.argsort(sizes, kind="stable")
            cuts = budget_batches(sizes[order].tolist(), batch_size, self.loader.eval_max_tokens)
            return DataLoader(
                ItemBatches(items, [order[cut].tolist() for cut in map(np.asarray, cuts)]),
                batch_size=None,
                num_workers=self.loader.num_workers,
                collate_fn=partial(type(self).collate, self),
                generator=generator,
            )
        sampler = EpochShuffle(
            len(items),
            batch_size,
            self.shuffle_seed,
            self._position,
            sizes.tolist() if self.loader.group_by_length else None,
            self.loader.group_by_length,
            self.epoch_passes(len(items), batch_size),
            column(items, "label") if self.loader.label_pairs else None,
        )
        return DataLoader(
            items,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=self.loader.num_workers,
            collate_fn=partial(type(self).train_collate, self),
            # Worker seeds from a private generator: iterating must not move the global random
            # state, or a resumed run's dropout would differ from the uninterrupted run's.
            generator=generator,
        )

    def epoch_passes(self, items: int, batch_size: int) -> int:
        """How many times an epoch passes over the training items: once, except in a K-shot run,
        where a sample of a few batches is passed over until the epoch holds
        `k_shot_epoch_steps` batches, so that the default epochs train enough steps."""
        steps = self.sampling.k_shot_epoch_steps
        if not self.sampling.k_shot or not steps or not items:
            return 1
        return max(1, math.ceil(steps * batch_size / items))

    def _position(self) -> tuple[int, int]:
        """(epoch, batches of it already trained): nonzero only when resuming in mid-epoch."""
        trainer = self.trainer
        if trainer is None:
            return 0, 0
        loop = trainer.fit_loop
        # Under DDP Lightning re-deals this order to the ranks: skipping here would not match
        # what each rank trained on, so a mid-epoch resume there replays the epoch's start.
        restarting = loop.restarting and trainer.world_size == 1
        done = loop.epoch_loop.batch_progress.current.completed if restarting else 0
        return trainer.current_epoch, done

    def train_batch_size(self) -> int:
        """Items per training batch: `batch_size` texts' worth. An item that stands for several
        texts (a `weight` above 1: neighbouring sentences joined into one) counts as that many,
        so that joining changes neither the tokens per step nor the steps per epoch."""
        if self.streams:  # a stream has no count; its items are one text each
            return self.loader.batch_size
        items = self.encoded("train")
        texts = sum(column(items, "weight", 1))
        return max(1, round(self.loader.batch_size * len(items) / max(texts, 1)))

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True, self.train_batch_size())

    def val_dataloader(self) -> DataLoader:
        return self._loader("dev", False, self.loader.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.loader.test_split, False, self.loader.eval_batch_size)
