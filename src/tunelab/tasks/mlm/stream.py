"""Masked-LM training blocks read as a stream (`data.streaming=true`): the training text is
tokenized while the model trains on it, for corpora read once, with no tokenization up front.

Each epoch reads the files in order and passes the blocks through a shuffle buffer of
`data.shuffle_buffer` blocks drawn from (seed, epoch) alone. A run resumed in mid-epoch reads the
epoch's stream again and skips the batches it already trained on, so it sees what the
uninterrupted run saw (the position is kept in every checkpoint: `TextDataModule.state_dict`).
Under DDP each process takes every n-th batch of the one stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from torch.utils.data import IterableDataset, get_worker_info


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


class BlockStream(IterableDataset):
    """The training blocks of a `TextDataModule`, read from its files anew each epoch."""

    def __init__(self, datamodule, batch_size: int, rank: int = 0, world_size: int = 1) -> None:
        self.datamodule, self.batch_size = datamodule, batch_size
        self.rank, self.world_size = rank, world_size

    def __iter__(self) -> Iterator[dict]:
        if get_worker_info() is not None and get_worker_info().num_workers > 1:
            raise RuntimeError("data.streaming=true reads its stream in one loader process")
        module = self.datamodule
        epoch, batches_done = module.stream_position()
        rng = random.Random(module.shuffle_seed * 1_000_003 + epoch)
        blocks = (
            block
            for chunk in module._blocks(module.split_texts("train"), "train", {})
            for block in chunk
        )
        skip = batches_done * self.batch_size * self.world_size
        for index, block in enumerate(shuffled(blocks, module.reading.shuffle_buffer, rng)):
            if index >= skip and (index // self.batch_size) % self.world_size == self.rank:
                yield block
