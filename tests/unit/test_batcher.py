"""The micro-batcher's rules: a failing text fails its own request alone, large requests are run
a chunk at a time between small ones, a request whose client left is dropped, and shutting down
fails what still waits."""

from __future__ import annotations

import asyncio
import time

import pytest

from tunelab.serving.batcher import MicroBatcher, ShuttingDown, TextFailed


class Model:
    """Labels each text with its length; fails a whole batch holding "POISON"; records batches."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[str]] = []
        self.delay = delay

    def __call__(self, texts, pairs=None):
        self.batches.append(list(texts))
        time.sleep(self.delay)
        if any("POISON" in t for t in texts):
            raise ValueError("cannot tokenize")
        return [{"text": t, "n": len(t)} for t in texts]


def run(coroutine):
    return asyncio.run(coroutine)


async def started(model, **options) -> MicroBatcher:
    batcher = MicroBatcher(model, **options)
    batcher.start()
    return batcher


def test_a_poisoned_text_fails_its_request_alone():
    model = Model()

    async def main():
        batcher = await started(model, max_batch=64, max_wait_ms=20)
        requests = [["a", "bb"], ["ccc", "xPOISONx", "d"], ["eeee"], ["POISON"]]
        results = await asyncio.gather(
            *(batcher.submit(texts) for texts in requests), return_exceptions=True
        )
        await batcher.stop()
        return results

    good1, bad1, good2, bad2 = run(main())
    assert [r["n"] for r in good1] == [1, 2] and [r["n"] for r in good2] == [4]
    assert isinstance(bad1, TextFailed) and bad1.index == 1 and "cannot tokenize" in str(bad1)
    assert isinstance(bad2, TextFailed) and bad2.index == 0
    assert model.batches[0] == ["a", "bb", "ccc", "xPOISONx", "d", "eeee", "POISON"]


def test_a_large_request_runs_a_chunk_at_a_time_beside_small_ones():
    model = Model(delay=0.01)

    async def main():
        batcher = await started(model, max_batch=8, max_wait_ms=0, chunk=4)
        big = asyncio.ensure_future(batcher.submit([f"big{i}" for i in range(40)]))
        await asyncio.sleep(0.015)  # the big request's first batch is running
        small = await batcher.submit(["small"])
        done_before = big.done()
        records = await big
        await batcher.stop()
        return small, done_before, records

    small, done_before, records = run(main())
    assert small == [{"text": "small", "n": 5}] and not done_before
    assert [r["text"] for r in records] == [f"big{i}" for i in range(40)]
    assert all(len(batch) <= 8 for batch in model.batches)
    with_small = next(i for i, batch in enumerate(model.batches) if "small" in batch)
    assert with_small <= 2  # not after the big request's other 8 batches


def test_requests_share_each_batch_in_turn():
    model = Model()

    async def main():
        batcher = MicroBatcher(model, max_batch=6, max_wait_ms=0, chunk=2)
        batcher.start()
        first = batcher.submit([f"a{i}" for i in range(6)])
        second = batcher.submit([f"b{i}" for i in range(6)])
        results = await asyncio.gather(first, second)
        await batcher.stop()
        return results

    first, second = run(main())
    assert [r["text"] for r in first] == [f"a{i}" for i in range(6)]
    assert model.batches[0] == ["a0", "a1", "b0", "b1", "a2", "a3"]
    assert model.batches[1] == ["b2", "b3", "a4", "a5", "b4", "b5"]


def test_a_request_whose_client_left_is_dropped():
    model = Model(delay=0.01)

    async def main():
        batcher = await started(model, max_batch=4, max_wait_ms=0, chunk=4)
        left = asyncio.ensure_future(batcher.submit([f"gone{i}" for i in range(400)]))
        await asyncio.sleep(0.025)
        left.cancel()
        stays = await batcher.submit(["stays"])
        await batcher.stop()
        return stays

    assert run(main()) == [{"text": "stays", "n": 5}]
    gone = sum(1 for batch in model.batches for t in batch if t.startswith("gone"))
    assert gone < 40  # of 400: dropped within a batch or two of leaving


def test_stopping_fails_what_still_waits():
    model = Model(delay=0.02)

    async def main():
        batcher = await started(model, max_batch=2, max_wait_ms=0, chunk=2)
        waiting = asyncio.ensure_future(batcher.submit([f"t{i}" for i in range(50)]))
        await asyncio.sleep(0.03)
        began = time.monotonic()
        await batcher.stop()
        with pytest.raises(ShuttingDown):
            await waiting
        return time.monotonic() - began

    assert run(main()) < 1.0  # one batch finishes, the rest is refused
