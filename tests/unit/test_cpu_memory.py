"""CPU memory settings: applied where they can be, never over the user's own."""

import os
import platform

import pytest

from tunelab.speed import cpu_memory


def test_kernel_cache_is_capped_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    cpu_memory.limit_kernel_cache()
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == cpu_memory.KERNEL_CACHE
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "7")
    cpu_memory.limit_kernel_cache()
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "7"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds(monkeypatch):
    for name in ("GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    assert cpu_memory.keep_freed_memory() is True
    cpu_memory.release_freed_memory()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MALLOC_MMAP_THRESHOLD_", "67108864"),
        ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1048576"),
    ],
)
def test_thresholds_the_user_set_win(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert cpu_memory.keep_freed_memory() is False


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert cpu_memory.keep_freed_memory() is False
    cpu_memory.release_freed_memory()  # no-op, no error


def test_the_available_share_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(
        "MemTotal:       24000000 kB\nMemFree: 1000 kB\nMemAvailable:    6000000 kB\n"
    )
    no_cgroup = str(tmp_path / "no-cgroup")
    assert cpu_memory.available_share(str(meminfo), no_cgroup) == (0.25, 24000000 * 1024)
    (tmp_path / "memory.max").write_text("max\n")  # a cgroup without a limit
    (tmp_path / "memory.current").write_text(f"{1 << 30}\n")
    assert cpu_memory.available_share(str(meminfo), str(tmp_path)) == (0.25, 24000000 * 1024)
    (tmp_path / "memory.max").write_text(f"{4 << 30}\n")  # a 4 GiB container, 1 GiB used
    assert cpu_memory.available_share(str(meminfo), str(tmp_path)) == (0.75, 4 << 30)
    meminfo.write_text("MemTotal:       24000000 kB\n")  # an old kernel: no MemAvailable
    assert cpu_memory.available_share(str(meminfo)) is None
    assert cpu_memory.available_share(str(tmp_path / "missing")) is None


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallinfo2 is glibc's")
def test_freed_memory_held_is_counted():
    import ctypes

    if not cpu_memory.keep_freed_memory():  # blocks below 256 MiB: heap, kept when freed
        pytest.skip("malloc's thresholds are the user's here")
    held = cpu_memory.held_free_bytes()
    assert held is not None and held >= 0
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    blocks = [libc.malloc(8 << 20) for _ in range(64)]  # 512 MiB
    try:
        for block in blocks:
            ctypes.memset(block, 1, 8 << 20)  # resident
    finally:
        for block in blocks:
            libc.free(ctypes.c_void_p(block))
    assert cpu_memory.held_free_bytes() > held + (256 << 20)  # freed, still resident
    cpu_memory.release_freed_memory()
    assert cpu_memory.held_free_bytes() < held + (256 << 20)


GIB = 1 << 30


@pytest.mark.parametrize(
    ("share", "held", "released"),
    [
        (0.6, 1 * GIB, False),  # plenty available, little held: kept for speed
        (0.6, None, False),  # glibc cannot say what it holds
        (0.6, 3 * GIB, False),  # within an eighth of 24 GiB
        (0.6, 4 * GIB, True),  # more than an eighth
        (0.1, 1 * GIB, True),  # the machine is short
    ],
)
def test_freed_memory_goes_back_when_held_or_short(monkeypatch, share, held, released):
    calls = []
    monkeypatch.setattr(cpu_memory, "available_share", lambda: (share, 24 * GIB))
    monkeypatch.setattr(cpu_memory, "held_free_bytes", lambda: held)
    monkeypatch.setattr(cpu_memory, "release_freed_memory", lambda: calls.append(1))
    assert cpu_memory.release_if_wasteful() is released
    assert len(calls) == int(released)
    monkeypatch.setattr(cpu_memory, "available_share", lambda: None)
    assert cpu_memory.release_if_wasteful() is False  # no /proc/meminfo: left alone
