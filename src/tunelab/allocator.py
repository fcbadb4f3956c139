"""Keep freed memory in the process on glibc, so that big per-step tensors skip page faults.

glibc's malloc serves blocks above 32 MiB with a fresh `mmap` and unmaps them on free; touching such
a block again costs a page fault per 4 KiB. A training step allocates one each time: the dense
gradient of the word embeddings (30,522 x 384 floats for MiniLM, 47 MB), whose zero-filling
then takes 13 ms instead of 2 (4% of a CPU step, docs/benchmarks.md). Raising the mmap and trim
thresholds lets freed blocks be reused, as jemalloc or tcmalloc would.
"""

from __future__ import annotations

import ctypes
import logging
import platform

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 << 20  # larger blocks are still mapped and returned on free
TRIM_THRESHOLD = 1 << 30  # free memory kept at the heap's top before it is returned

log = logging.getLogger(__name__)


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; False where libc is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the C library this process already runs on
    done = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(
        M_TRIM_THRESHOLD, TRIM_THRESHOLD
    )
    if not done:
        log.debug("mallopt refused the thresholds; keeping glibc's defaults")
    return bool(done)
