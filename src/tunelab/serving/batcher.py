"""Requests from concurrent clients run through the model together.

Each forward pass over a batch of texts costs little more than one over a single text on these
CPUs, so the first request waits up to `max_wait_ms` for others, and requests that arrive while
the model runs form the next batch, up to `max_batch` texts (a larger request runs alone). The
model runs in one worker thread: the event loop keeps accepting and answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Pending:
    texts: list[str]
    pairs: list[str] | None
    done: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Gathers requests into batches for `predict(texts, pairs) -> records`."""

    def __init__(
        self,
        predict: Callable[[list[str], list[str] | None], list[dict]],
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
    ) -> None:
        self.predict, self.max_batch, self.max_wait = predict, max_batch, max_wait_ms / 1000
        self.queue: asyncio.Queue[Pending] | None = None
        self.worker: asyncio.Task | None = None
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="tunelab-model")
        self.batches = 0  # forward batches run, for /health

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
        self.executor.shutdown(wait=True)

    async def submit(self, texts: list[str], pairs: list[str] | None = None) -> list[dict]:
        """The records of `texts`, once the batch they join has run."""
        done = asyncio.get_running_loop().create_future()
        await self.queue.put(Pending(texts, pairs, done))
        return await done

    async def _gather(self) -> list[Pending]:
        """The next batch: the first waiting request, then others until `max_batch` texts or
        `max_wait` seconds."""
        group = [await self.queue.get()]
        size = len(group[0].texts)
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while size < self.max_batch:
            if self.queue.empty():
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), left)
                except TimeoutError:
                    break
            else:
                item = self.queue.get_nowait()
            group.append(item)
            size += len(item.texts)
        return group

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            group = await self._gather()
            # single texts and pairs are read differently: never in one batch
            for kind in (False, True):
                members = [p for p in group if (p.pairs is not None) == kind and not p.done.done()]
                if not members:
                    continue
                texts = [t for p in members for t in p.texts]
                pairs = [t for p in members for t in p.pairs] if kind else None
                try:
                    records = await loop.run_in_executor(self.executor, self.predict, texts, pairs)
                except Exception as err:  # noqa: BLE001 - the requests get it, the worker lives on
                    for p in members:
                        if not p.done.done():
                            p.done.set_exception(err)
                    continue
                self.batches += 1
                start = 0
                for p in members:
                    if not p.done.done():  # a client that left is not answered
                        p.done.set_result(records[start : start + len(p.texts)])
                    start += len(p.texts)
