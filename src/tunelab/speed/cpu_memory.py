"""Memory settings for training on CPU: freed blocks kept for reuse, a small oneDNN kernel cache.

glibc's malloc serves blocks above 32 MiB with a fresh `mmap` and unmaps them on free; touching such
a block again costs a page fault per 4 KiB. A training step allocates one each time: the dense
gradient of the word embeddings (30,522 x 384 floats for MiniLM), whose zero-filling then pays
those faults on every step (docs/benchmarks.md). Raising the mmap and trim
thresholds lets freed blocks be reused, as jemalloc or tcmalloc would; `release_freed_memory` hands
them back when training ends, so that what follows (testing) does not stack on them, and after any
step that leaves too much of it held (`release_if_wasteful`): on long texts the kept blocks
fragment, and a run that keeps them all can hold twice its live memory (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
from pathlib import Path

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 << 20  # larger blocks are still mapped and returned on free
TRIM_THRESHOLD = 1 << 30  # free memory kept at the heap's top before it is returned

KERNEL_CACHE = "64"  # oneDNN's default is 1,024
SHORT = 0.25  # the machine is short of memory below this share of it available
HELD_SHARE = 1 / 8  # freed memory kept beyond this share of the machine's (and 2 GiB) goes back
HELD_FLOOR = 2 << 30
MEMINFO = "/proc/meminfo"
CGROUP = "/sys/fs/cgroup"  # cgroup v2: a container's or a batch job's own memory limit

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


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def meminfo_bytes(names: tuple[str, ...], path: str) -> dict[str, int]:
    """The named fields of a /proc meminfo-style file (`Name:  123 kB`), in bytes."""
    found = {}
    with open(path) as file:
        for line in file:
            name, _, rest = line.partition(":")
            if name in names and rest.split():
                found[name] = int(rest.split()[0]) * 1024
    return found


def held_free_bytes(status: str = "/proc/self/status") -> int | None:
    """Memory this process holds resident but has freed: its anonymous pages less what glibc's
    malloc has handed out (`mallinfo2`, glibc 2.33 on); None where that cannot be told."""
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = _Mallinfo2
    try:
        anon = meminfo_bytes(("RssAnon",), status)["RssAnon"]
    except (OSError, KeyError, ValueError):
        return None
    info = libc.mallinfo2()
    return max(anon - info.uordblks - info.hblkhd, 0)


def available_share(meminfo: str = MEMINFO, cgroup: str = CGROUP) -> tuple[float, int] | None:
    """The share of this process's memory available to new work, and that memory in bytes: the
    machine's (MemAvailable over MemTotal), or its cgroup's where a smaller limit is set (a
    container, a SLURM job); None where the kernel does not say."""
    try:
        fields = meminfo_bytes(("MemTotal", "MemAvailable"), meminfo)
        total, available = fields["MemTotal"], fields["MemAvailable"]
    except (OSError, KeyError, ValueError):
        return None
    try:
        limit = int(Path(cgroup, "memory.max").read_text())  # "max": no limit
        used = int(Path(cgroup, "memory.current").read_text())
        if limit < total:
            total, available = limit, min(available, max(limit - used, 0))
    except (OSError, ValueError):
        pass
    return (available / total, total) if total else None


def release_if_wasteful() -> bool:
    """`release_freed_memory` when the freed memory this process keeps is more than an eighth
    of the machine's (at least 2 GiB), or less than a quarter of the machine's memory is
    available; whether it did. Called after each CPU training step (reading /proc costs
    microseconds): NER sentences keep their 0.8-1.0 GB of freed blocks, and their speed; long
    texts, whose kept blocks fragment into more than their live memory, hand them back."""
    machine = available_share()
    if machine is None:
        return False
    share, total = machine
    held = held_free_bytes()
    wasteful = held is not None and held > max(HELD_FLOOR, total * HELD_SHARE)
    if not wasteful and share >= SHORT:
        return False
    release_freed_memory()
    return True
