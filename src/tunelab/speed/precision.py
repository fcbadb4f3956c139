"""The default precision: bf16 autocast only where this machine's bf16 matrix products are
measured to be faster than fp32.

A CPU flag is not enough: the AMD EPYC with AVX-512 BF16 multiplies bf16 2.3 times faster than
fp32, an Intel Xeon with the same flag and no AMX 0.52 times as fast (docs/benchmarks.md). So
where the CPU has bf16 instructions, a short timing (about a second) decides, once per machine
and torch version; the verdict is kept in the cache folder so every later run picks the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# autocast adds casts around every matrix product: bf16 must win the bare product by a margin
MIN_SPEEDUP = 1.25
# a MiniLM feed-forward product for a batch of about 1,000 sub-tokens
SHAPE = (1024, 384, 1536)


def default_precision() -> str:
    """`bf16-mixed` on a CUDA GPU with bf16, or on a CPU whose bf16 products are measured to be at
    least MIN_SPEEDUP times as fast as fp32; else `32-true`."""
    import torch

    if torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "32-true"
    flags = cpu_info().get("flags", "")
    if not any(flag in flags.split() for flag in BF16_FLAGS):
        return "32-true"  # bf16 without the instructions is emulated: always slower
    return "bf16-mixed" if cpu_bf16_speedup() >= MIN_SPEEDUP else "32-true"


def cpu_info() -> dict[str, str]:
    """The first processor's `model name` and `flags` from /proc/cpuinfo (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "flags") and key not in found:
            found[key] = value.strip()
    return found


def cache_file() -> Path:
    """$XDG_CACHE_HOME/tunelab/precision.json (~/.cache when unset)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "tunelab" / "precision.json"


def machine_key() -> str:
    import torch

    info = cpu_info()
    flags = hashlib.sha256(info.get("flags", "").encode()).hexdigest()[:12]
    return (
        f"{info.get('model name', platform.processor())}, flags {flags}, torch {torch.__version__}"
    )


def cpu_bf16_speedup() -> float:
    """How many times faster a bf16 matrix product runs than fp32 here: read from the cache, else
    measured and saved there."""
    path, key = cache_file(), machine_key()
    try:
        saved = json.loads(path.read_text())
        if saved.get("machine") == key and isinstance(saved.get("bf16_speedup"), float):
            return saved["bf16_speedup"]
    except (OSError, ValueError, AttributeError):
        pass
    speedup = measure_bf16_speedup()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"machine": key, "bf16_speedup": speedup}) + "\n")
        os.replace(partial, path)  # parallel processes each write a whole file
    except OSError:
        pass  # a read-only home: measured again next time
    return speedup


def measure_bf16_speedup(repeats: int = 5, products: int = 8) -> float:
    """fp32 time over bf16 time for SHAPE's product, the best of `repeats` rounds of each, the
    rounds taking turns so that a noisy neighbour slows both alike."""
    import torch

    rows, inner, cols = SHAPE
    generator = torch.Generator().manual_seed(0)
    fp32 = (
        torch.randn(rows, inner, generator=generator),
        torch.randn(inner, cols, generator=generator),
    )
    bf16 = tuple(t.to(torch.bfloat16) for t in fp32)
    best = {"fp32": float("inf"), "bf16": float("inf")}
    for _ in range(repeats + 1):  # the first round warms up the kernels and threads
        for name, (a, b) in (("fp32", fp32), ("bf16", bf16)):
            start = time.perf_counter()
            for _ in range(products):
                torch.mm(a, b)
            best[name] = min(best[name], time.perf_counter() - start)
    return round(best["fp32"] / best["bf16"], 3)
