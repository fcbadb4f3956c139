"""Load test of `tunelab-serve` against a plain loop over a Hugging Face `pipeline()`, on the
loopback address only, bounded in clients and time.

    .venv/bin/python scripts/load_test.py --model-dir RUN/model --json outputs/load_test.json

Texts: `--texts FILE` (one per line) or, by default, the first 500 sentences of 4 words or more
of CoNLL-2003's test split, words joined by spaces. Sides, each measured in turn (keep other
work off the cores):
- `service`: `tunelab-serve` in its own process, its defaults; `--clients` (32) concurrent
  clients, each sending one text a request, then the next as soon as the answer comes, for
  `--seconds` (60); throughput in words/s of answered texts, latency percentiles, errors. Then
  `--latency-clients` (8) clients for p99 latency of a single short text.
- `pipeline`: `pipeline("token-classification", aggregation_strategy="simple")` (or
  "text-classification") on the same model folder, one text a call, in a loop.
- `pipeline_batched`: the same pipeline given the texts as a list with `batch_size=32`.
- `service_onnx`, `service_onnx_int8` (add them to `--sides`): the service with `backend=onnx`, on
  the fp32 or int8 graph that `tunelab-export model_dir=... quantize=int8` wrote;
  `service_torch_int8`: with `backend=torch_int8`, where that command's quality gate accepted it.
- `--served-dir STUDENT/model`: the service sides serve this model (e.g. a distilled student)
  while the pipeline sides run `--model-dir` (its teacher). Each service side reports the test
  score of what it serves (the run's metrics.json, or the int8 gate's record) beside its speed.
- `isolation` (add it to `--sides`): the service, `--clients` (32) clients sending one text a
  request, one request in ten poisoned (a lone surrogate, escaped as JSON allows), while
  `--big-clients` (2) more send 1,000-text requests back to back; every good one-text request must
  get 200, and its p99 latency is the figure (issue 45: under one second).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tunelab.speed.precision import cpu_info

ROOT = Path(__file__).resolve().parents[1]
CONLL_TEST = ROOT.parent / "shared" / "datasets" / "conll2003" / "test.txt"


def default_texts(count: int = 500) -> list[str]:
    from tunelab.data.conll import read_conll

    sentences = [s.words for s in read_conll(CONLL_TEST, with_tags=False) if len(s.words) >= 4]
    return [" ".join(words) for words in sentences[:count]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(model_dir: str, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "tunelab", "serve", f"model_dir={model_dir}", f"port={port}"]
    command += ["log_level=warning", "hydra.run.dir=outputs/load_test/serve", *extra]
    process = subprocess.Popen(command, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):
                return process, url
        except OSError:
            if process.poll() is not None:
                raise SystemExit("tunelab-serve exited before answering") from None
            time.sleep(0.2)
    raise SystemExit("tunelab-serve did not answer /health in 120 s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def hammer(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    """`clients` loops, each posting one text a request until `seconds` have passed."""
    import aiohttp

    words = {text: len(text.split()) for text in texts}
    latencies, errors, done_words = [], 0, 0
    feed = itertools.cycle(texts)
    stop = time.perf_counter() + seconds

    async def client(session) -> None:
        nonlocal errors, done_words
        while time.perf_counter() < stop:
            text = next(feed)
            start = time.perf_counter()
            try:
                async with session.post(f"{url}/v1/predict", json={"texts": [text]}) as answer:
                    await answer.read()
                    if answer.status != 200:
                        errors += 1
                        continue
            except aiohttp.ClientError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - start)
            done_words += words[text]

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.perf_counter() - began
    ms = [1000 * v for v in latencies]
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": errors,
        "words_per_s": round(done_words / elapsed, 1),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
    }


POISON = '{"texts": ["x \\ud800 y"]}'


async def hammer_isolation(
    url: str, texts: list[str], clients: int, big_clients: int, seconds: float
) -> dict:
    """One-text clients (every tenth request poisoned) beside clients of 1,000-text requests."""
    import aiohttp

    small, poisoned, big = [], [], []
    good_failures, sent = 0, itertools.count()
    feed = itertools.cycle(texts)
    stop = time.perf_counter() + seconds

    async def one_text(session) -> None:
        nonlocal good_failures
        while time.perf_counter() < stop:
            poison = next(sent) % 10 == 9
            body = POISON if poison else json.dumps({"texts": [next(feed)]})
            start = time.perf_counter()
            async with session.post(
                f"{url}/v1/predict", data=body, headers={"Content-Type": "application/json"}
            ) as answer:
                await answer.read()
            if poison:
                poisoned.append(answer.status)
            elif answer.status == 200:
                small.append(1000 * (time.perf_counter() - start))
            else:
                good_failures += 1

    async def thousand_texts(session) -> None:
        nonlocal good_failures
        while time.perf_counter() < stop:
            batch = [next(feed) for _ in range(1000)]
            start = time.perf_counter()
            async with session.post(f"{url}/v1/predict", json={"texts": batch}) as answer:
                await answer.read()
            if answer.status == 200:
                big.append(time.perf_counter() - start)
            else:
                good_failures += 1

    timeout = aiohttp.ClientTimeout(total=600)
    connector = aiohttp.TCPConnector(limit=clients + big_clients)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        await asyncio.gather(
            *(one_text(session) for _ in range(clients)),
            *(thousand_texts(session) for _ in range(big_clients)),
        )
        elapsed = time.perf_counter() - began
    return {
        "clients": clients,
        "big_clients": big_clients,
        "seconds": round(elapsed, 1),
        "one_text_requests": len(small),
        "good_requests_failed": good_failures,
        "poisoned": len(poisoned),
        "poisoned_statuses": sorted(set(poisoned)),
        "one_text_p50_ms": round(percentile(small, 0.50), 1),
        "one_text_p99_ms": round(percentile(small, 0.99), 1),
        "one_text_max_ms": round(max(small, default=float("nan")), 1),
        "thousand_text_requests": len(big),
        "thousand_text_mean_s": round(sum(big) / len(big), 1) if big else None,
    }


def run_isolation(args, texts: list[str]) -> dict:
    process, url = start_service(args.model_dir, args.serve_overrides)
    try:
        asyncio.run(hammer(url, texts, args.clients, 5))  # warm-up
        return asyncio.run(
            hammer_isolation(url, texts, args.clients, args.big_clients, args.seconds)
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


SERVED = ("service", "service_onnx", "service_onnx_int8", "service_torch_int8")


def served_score(model_dir: Path, side: str) -> dict | None:
    """The test score of the model a service side serves: the int8 gate's measurement for an
    int8 side, else the training run's metrics.json beside the model folder (None if absent)."""
    records = {
        "service_onnx_int8": (model_dir / "onnx" / "check.json", ("gate", "int8")),
        "service_torch_int8": (model_dir / "torch_int8.json", ("int8",)),
    }
    path, keys = records.get(side, (model_dir.parent / "metrics.json", ()))
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    for key in keys:
        record = record[key]
    if keys:
        return {record["metric"]: record["score"]}
    return {k: v for k, v in record.items() if k in ("test/f1", "test/acc")}


def run_service(args, texts: list[str], extra: list[str]) -> dict:
    process, url = start_service(args.served_dir or args.model_dir, extra)
    try:
        asyncio.run(hammer(url, texts, args.clients, 5))  # warm-up
        loaded = asyncio.run(hammer(url, texts, args.clients, args.seconds))
        short = [min(texts, key=len)]
        single = asyncio.run(hammer(url, short, args.latency_clients, args.latency_seconds))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return {"load": loaded, "single_text": {**single, "text": short[0]}}


def run_pipeline(args, texts: list[str], batched: bool) -> dict:
    from transformers import AutoConfig, pipeline

    architectures = AutoConfig.from_pretrained(args.model_dir).architectures or [""]
    if architectures[0].endswith("ForTokenClassification"):
        pipe = pipeline("token-classification", model=args.model_dir, aggregation_strategy="simple")
    else:
        pipe = pipeline("text-classification", model=args.model_dir, top_k=None)
    pipe(texts[:32], batch_size=32)  # warm-up
    words, start = 0, time.perf_counter()
    stop = start + args.seconds
    while time.perf_counter() < stop:
        if batched:
            pipe(texts, batch_size=32)
            words += sum(len(t.split()) for t in texts)
        else:
            for text in texts:
                pipe(text)
                words += len(text.split())
                if time.perf_counter() >= stop:
                    break
    elapsed = time.perf_counter() - start
    return {"seconds": round(elapsed, 1), "words_per_s": round(words / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--served-dir", help="the model the service sides serve (--model-dir)")
    parser.add_argument("--texts", help="one text per line (default: 500 CoNLL-2003 sentences)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--latency-clients", type=int, default=8)
    parser.add_argument("--big-clients", type=int, default=2)
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--sides", nargs="+", default=["service", "pipeline", "pipeline_batched"])
    parser.add_argument("--serve-overrides", nargs="*", default=[])
    parser.add_argument("--json", default="outputs/load_test.json")
    args = parser.parse_args()
    texts = (
        Path(args.texts).read_text(encoding="utf-8").splitlines() if args.texts else default_texts()
    )
    result = {
        "cpu": cpu_info().get("model name", platform.processor()),
        "cores": os.cpu_count(),
        "texts": len(texts),
        "words": sum(len(t.split()) for t in texts),
        "model_dir": args.model_dir,
        "served_dir": args.served_dir or args.model_dir,
    }
    for side in args.sides:
        print(f"load test: {side} ...", flush=True)
        if side == "service":
            result[side] = run_service(args, texts, args.serve_overrides)
        elif side == "isolation":
            result[side] = run_isolation(args, texts)
        elif side.startswith("service_onnx"):
            graph = "model.int8.onnx" if side.endswith("int8") else "model.onnx"
            extra = ["backend=onnx", f"onnx_model={graph}", *args.serve_overrides]
            result[side] = run_service(args, texts, extra)
        elif side == "service_torch_int8":
            extra = ["backend=torch_int8", *args.serve_overrides]
            result[side] = run_service(args, texts, extra)
        else:
            result[side] = run_pipeline(args, texts, batched=side == "pipeline_batched")
        print(json.dumps(result[side]), flush=True)
    for side in SERVED:
        if side in result:
            result[side]["test_score"] = served_score(Path(result["served_dir"]), side)
    for served in SERVED:
        speed = result.get(served, {}).get("load", {}).get("words_per_s")
        for side in ("pipeline", "pipeline_batched"):
            if speed and side in result:
                ratio = speed / result[side]["words_per_s"]
                result[f"{served}_over_{side}"] = round(ratio, 2)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if "_over_" in k}))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
