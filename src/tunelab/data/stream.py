"""Training items read as a stream (`data.streaming=true`): the training split is read and
tokenized while the model trains on it, for corpora read once, with nothing tokenized up front.

Each epoch reads the files in order (a task's `stream_chunks()`: chunks of items) and passes the
items through a shuffle buffer of `data.shuffle_buffer` drawn from (seed, epoch) alone. A run
resumed in mid-epoch reads the epoch's stream again and skips the batches it already trained
on, so it sees what the uninterrupted run saw: the position is the DataModule's own state in
every checkpoint (`Streaming.state_dict`), since Lightning reads an iterable's first batch before
its own restored batch count is in place. Under DDP each process takes every n-th batch.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import partial

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info


def shuffled(items: Iterator, size: int, rng: random.Random) -> Iterator:
    """`items` in a random order in which each leaves at most `size` places before it would
    have come: a buffer of `size` items, a random one of them out for each one in."""
    buffer: list = []
    for item in items:
        buffer.append(item)
        if len(buffer) > size:
            index = rng.randrange(len(buffer))
            buffer[index], buffer[-1] = buffer[-1], buffer[index]
            yield buffer.pop()
    rng.shuffle(buffer)
    yield from buffer


class ItemStream(IterableDataset):
    """The training items of a streaming DataModule, read anew each epoch."""

    def __init__(self, datamodule, batch_size: int, rank: int = 0, world_size: int = 1) -> None:
        self.datamodule, self.batch_size = datamodule, batch_size
        self.rank, self.world_size = rank, world_size

    def __iter__(self) -> Iterator[dict]:
        if get_worker_info() is not None and get_worker_info().num_workers > 1:
            raise RuntimeError("data.streaming=true reads its stream in one loader process")
        module = self.datamodule
        epoch, batches_done = module.stream_position()
        rng = random.Random(module.shuffle_seed * 1_000_003 + epoch)
        items = (item for chunk in module.stream_chunks() for item in chunk)
        skip = batches_done * self.batch_size * self.world_size
        for index, item in enumerate(shuffled(items, module.shuffle_buffer, rng)):
            if index >= skip and (index // self.batch_size) % self.world_size == self.rank:
                yield item


class Streaming:
    """What a DataModule adds to stream its training split: its reading settings hold
    `streaming` and `shuffle_buffer`, and it defines `stream_chunks()`."""

    @property
    def streams(self) -> bool:
        return self.reading.streaming

    @property
    def shuffle_buffer(self) -> int:
        return self.reading.shuffle_buffer

    def train_dataloader(self) -> DataLoader:
        return self.stream_loader() if self.streams else super().train_dataloader()

    def state_dict(self) -> dict:
        """A stream's position, in every checkpoint: (epoch, batches of it trained)."""
        if not self.streams or self.trainer is None:
            return {}
        # processed, not completed: a checkpoint taken at a batch's end counts that batch
        done = self.trainer.fit_loop.epoch_loop.batch_progress.current.processed
        return {"stream": [self.trainer.current_epoch, done]}

    def load_state_dict(self, state: dict) -> None:
        self._resume_at = tuple(state["stream"]) if "stream" in state else None

    def stream_position(self) -> tuple[int, int]:
        """(epoch, batches to skip) for the stream about to be read: the checkpoint's position
        once, in the epoch it was taken in; else the start of the epoch."""
        epoch = self.trainer.current_epoch if self.trainer is not None else 0
        resume, self._resume_at = getattr(self, "_resume_at", None), None
        return (epoch, resume[1]) if resume and resume[0] == epoch else (epoch, 0)

    def stream_loader(self) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        return DataLoader(
            ItemStream(self, self.loader.batch_size, rank, world),
            batch_size=self.loader.batch_size,
            collate_fn=partial(type(self).train_collate, self),
            # iterating must not draw from the global random state (a resumed run's dropout)
            generator=torch.Generator().manual_seed(self.shuffle_seed % 2**63),
        )
