"""Requests from concurrent clients run through the model together, fairly and in isolation.

Each forward pass over a batch of texts costs little more than one over a single text on these
CPUs, so the first request waits up to `max_wait_ms` for others. A batch takes at most `chunk`
texts of each waiting request in turn (round robin) up to `max_batch` texts, so a 1-text request
rides in the next batch even while 1,000-text requests are being answered: a large request is
answered a chunk at a time, between the small ones. A batch that fails is run again request by
request and then text by text, so only the request holding the bad text fails (naming its index).
A request whose client left is dropped before its next chunk. The model runs in one worker
thread: the event loop keeps accepting and answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


class TextFailed(Exception):
    """The model could not label one text of a request."""

    def __init__(self, index: int, cause: BaseException) -> None:
        reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        super().__init__(f"text {index} could not be labelled ({reason})")
        self.index = index


@dataclass(eq=False)
class Pending:
    """One request: its texts, how many are scheduled, the records so far."""

    texts: list[str]
    pairs: list[str] | None
    done: asyncio.Future = field(repr=False)
    scheduled: int = 0
    records: list = field(default_factory=list)

    @property
    def left(self) -> int:
        return len(self.texts) - self.scheduled

    @property
    def gone(self) -> bool:
        return self.done.done()  # answered, failed, or its client left (cancelled)


@dataclass(eq=False)
class Slice:
    request: Pending
    start: int
    stop: int


class MicroBatcher:
    """Gathers requests into batches for `predict(texts, pairs) -> records`."""

    def __init__(
        self,
        predict: Callable[[list[str], list[str] | None], list[dict]],
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
        chunk: int = 16,
    ) -> None:
        self.predict, self.max_batch, self.max_wait = predict, max_batch, max_wait_ms / 1000
        self.chunk = max(1, min(chunk, max_batch))
        self.waiting: deque[Pending] = deque()
        self.arrived: asyncio.Event | None = None
        self.worker: asyncio.Task | None = None
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="tunelab-model")
        self.batches = 0  # forward batches run, for /health

    def start(self) -> None:
        self.arrived = asyncio.Event()
        self.worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, message: str = "the service is shutting down") -> None:
        """Stop after the batch running now; every request still waiting fails at once."""
        if self.worker is not None:
            self.worker.cancel()
        for pending in self.waiting:
            if not pending.gone:
                pending.done.set_exception(ShuttingDown(message))
        self.waiting.clear()
        self.executor.shutdown(wait=True, cancel_futures=True)

    @property
    def queued_texts(self) -> int:
        return sum(p.left for p in self.waiting if not p.gone)

    async def submit(self, texts: list[str], pairs: list[str] | None = None) -> list[dict]:
        """The records of `texts`, once every chunk of them has run. Cancelling the call (the
        client left) drops the chunks not yet run."""
        pending = Pending(texts, pairs, asyncio.get_running_loop().create_future())
        self.waiting.append(pending)
        self.arrived.set()
        return await pending.done

    async def _next_batch(self) -> list[Slice]:
        """Slices of the waiting requests: one kind (texts or pairs), `chunk` texts of each in
        turn, at most `max_batch` texts; a lone small request waits `max_wait` for company."""
        while True:
            self._drop_gone()
            if self.waiting:
                break
            self.arrived.clear()
            await self.arrived.wait()
        if self.queued_texts < self.max_batch and self.max_wait > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.max_wait
            while self.queued_texts < self.max_batch and (left := deadline - loop.time()) > 0:
                self.arrived.clear()
                try:
                    await asyncio.wait_for(self.arrived.wait(), left)
                except TimeoutError:
                    break
            self._drop_gone()
        kind = self.waiting[0].pairs is not None  # single texts and pairs never share a batch
        slices, size, idle = [], 0, 0
        # round robin that goes on where the last batch stopped: each request taken from the
        # front goes to the back
        while size < self.max_batch and idle < len(self.waiting):
            pending = self.waiting[0]
            self.waiting.rotate(-1)
            if (pending.pairs is not None) != kind or pending.left == 0:
                idle += 1
                continue
            take = min(self.chunk, pending.left, self.max_batch - size)
            slices.append(Slice(pending, pending.scheduled, pending.scheduled + take))
            pending.scheduled += take
            size, idle = size + take, 0
        return slices

    def _drop_gone(self) -> None:
        kept = [p for p in self.waiting if not p.gone and p.left > 0]
        self.waiting = deque(kept)

    async def _label(self, texts: list[str], pairs: list[str] | None) -> list[dict]:
        loop = asyncio.get_running_loop()
        records = await loop.run_in_executor(self.executor, self.predict, texts, pairs)
        self.batches += 1
        return records

    async def _run_slices(self, slices: list[Slice]) -> None:
        """Label the slices together; when that fails, each alone; when one alone fails, its
        texts one by one, failing only its request, naming the text."""
        kind = slices[0].request.pairs is not None
        texts = [t for s in slices for t in s.request.texts[s.start : s.stop]]
        pairs = [t for s in slices for t in s.request.pairs[s.start : s.stop]] if kind else None
        try:
            records = await self._label(texts, pairs)
        except Exception:  # noqa: BLE001 - isolate the failing text below
            if len(slices) > 1:
                for one in slices:
                    if not one.request.gone:
                        await self._run_slices([one])
                return
            records = await self._one_by_one(slices[0])
            if records is None:
                return
        start = 0
        for one in slices:
            size = one.stop - one.start
            self._deliver(one.request, records[start : start + size])
            start += size

    async def _one_by_one(self, one: Slice) -> list[dict] | None:
        request, records = one.request, []
        for index in range(one.start, one.stop):
            pair = [request.pairs[index]] if request.pairs is not None else None
            try:
                records += await self._label([request.texts[index]], pair)
            except Exception as err:  # noqa: BLE001 - this request alone fails
                if not request.gone:
                    request.done.set_exception(TextFailed(index, err))
                return None
        return records

    def _deliver(self, request: Pending, records: list[dict]) -> None:
        if request.gone:
            return
        request.records += records
        if len(request.records) == len(request.texts):
            request.done.set_result(request.records)

    async def _run(self) -> None:
        while True:
            slices = await self._next_batch()
            if slices:
                await self._run_slices(slices)


class ShuttingDown(Exception):
    """The service stopped before this request's turn came."""
