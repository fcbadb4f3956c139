"""What the NER and classification DataModules share: tokenizer, loaders, stage set-up."""

from __future__ import annotations

from functools import partial

import pytorch_lightning as pl
from torch.utils.data import DataLoader
from transformers import AutoTokenizer

from tunelab.data.batching import pad_batch
from tunelab.data.registry import from_pretrained


class TaskDataModule(pl.LightningDataModule):
    """Subclasses define `encoded(split)` (a list of item dicts, cached), `pad_values` and
    `keep` (the fields `pad_batch` pads and stacks), and read their splits lazily.

    Expected hparams: tokenizer, batch_size, eval_batch_size, pad_to_multiple_of, test_split,
    num_workers.
    """

    keep: tuple[str, ...] = ()

    def __init__(self):
        super().__init__()
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = from_pretrained(AutoTokenizer, self.hparams.tokenizer)
        return self._tokenizer

    @property
    def pad_values(self) -> dict[str, int]:
        return {"input_ids": self.tokenizer.pad_token_id}

    def encoded(self, split: str) -> list[dict]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        wanted = {
            "fit": ["train", "dev"],
            "validate": ["dev"],
            "test": [self.hparams.test_split],
        }.get(stage, [])
        for split in wanted:
            self.encoded(split)

    def collate(self, items: list[dict]):
        return pad_batch(items, self.pad_values, self.keep, self.hparams.pad_to_multiple_of)

    def _loader(self, split: str, shuffle: bool, batch_size: int) -> DataLoader:
        items = self.encoded(split)
        if not shuffle:
            # Evaluation in order of length: less padding; results are put back by index.
            items = sorted(items, key=lambda item: len(item["input_ids"]))
        return DataLoader(
            items,
            batch_size=batch_size,
            shuffle=shuffle,
            num_workers=self.hparams.num_workers,
            collate_fn=partial(type(self).collate, self),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True, self.hparams.batch_size)

    def val_dataloader(self) -> DataLoader:
        return self._loader("dev", False, self.hparams.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.hparams.test_split, False, self.hparams.eval_batch_size)
