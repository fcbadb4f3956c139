"""Memory settings for training on CPU: freed blocks kept for reuse, a small oneDNN kernel cache.

glibc's malloc serves blocks above 32 MiB with a fresh `mmap` and unmaps them on free; touching such
a block again costs a page fault per 4 KiB. A training step allocates one each time: the dense
gradient of the word embeddings (30,522 x 384 floats for MiniLM), whose zero-filling then pays
those faults on every step (docs/benchmarks.md). Raising the mmap and trim
thresholds lets freed blocks be reused, as jemalloc or tcmalloc would; `release_freed_memory` hands
them back when training ends, so that what follows (testing) does not stack on them, and after any
step that leaves the machine short of memory (`release_if_short`): on long texts the kept blocks
fragment, and a run that keeps them all can hold twice its live memory (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 << 20  # larger blocks are still mapped and returned on free
TRIM_THRESHOLD = 1 << 30  # free memory kept at the heap's top before it is returned

KERNEL_CACHE = "64"  # oneDNN's default is 1,024
SHORT = 0.25  # the machine is short of memory below this share of it available
MEMINFO = "/proc/meminfo"

log = logging.getLogger(__name__)


def limit_kernel_cache() -> None:
    """Cap oneDNN's cache of compiled kernels (it runs PyTorch's bf16 matrix products on CPU).

    Packed or length-grouped training batches change shape every step, so the default cache fills
    with kernels that never run again, a large share of the peak memory for no speed
    (docs/benchmarks.md). oneDNN reads the setting when it compiles its first kernel, so this must
    come before the first bf16 matrix product; a value the user set wins.
    """
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", KERNEL_CACHE)


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    return ctypes.CDLL(None)  # the C library this process already runs on


def _user_set_malloc() -> bool:
    """Whether the user tuned glibc's malloc through its environment variables."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    legacy = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
    return "glibc.malloc." in tunables or any(name in os.environ for name in legacy)


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; False where libc is not glibc
    or the user set malloc's thresholds (e.g. `MALLOC_MMAP_THRESHOLD_=67108864` keeps the peak
    lower on long texts, at some speed: docs/benchmarks.md)."""
    libc = _glibc()
    if libc is None or _user_set_malloc():
        return False
    done = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(
        M_TRIM_THRESHOLD, TRIM_THRESHOLD
    )
    if not done:
        log.debug("mallopt refused the thresholds; keeping glibc's defaults")
    return bool(done)


def release_freed_memory() -> None:
    """Return the free memory glibc holds to the system (thresholds stay as they are)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def available_share(meminfo: str = MEMINFO) -> float | None:
    """The share of the machine's memory available to new work (Linux's MemAvailable over
    MemTotal); None where the kernel does not say."""
    fields = {}
    try:
        with open(meminfo) as file:
            for line in file:
                name, _, rest = line.partition(":")
                fields[name] = rest.split()[0] if rest.split() else ""
        return int(fields["MemAvailable"]) / int(fields["MemTotal"])
    except (OSError, KeyError, ValueError, ZeroDivisionError):
        return None


def release_if_short(share: float = SHORT) -> bool:
    """`release_freed_memory` when less than `share` of the machine's memory is available; whether
    it did. Called after each CPU training step: reading /proc/meminfo costs microseconds, and
    the freed blocks are kept, for speed, only while memory is plentiful."""
    available = available_share()
    if available is None or available >= share:
        return False
    release_freed_memory()
    return True
