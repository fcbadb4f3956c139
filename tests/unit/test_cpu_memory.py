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
    assert cpu_memory.available_share(str(meminfo)) == 0.25
    meminfo.write_text("MemTotal:       24000000 kB\n")  # an old kernel: no MemAvailable
    assert cpu_memory.available_share(str(meminfo)) is None
    assert cpu_memory.available_share(str(tmp_path / "missing")) is None


@pytest.mark.parametrize(("available", "released"), [(0.1, True), (0.6, False), (None, False)])
def test_freed_memory_goes_back_only_when_the_machine_is_short(monkeypatch, available, released):
    calls = []
    monkeypatch.setattr(cpu_memory, "available_share", lambda: available)
    monkeypatch.setattr(cpu_memory, "release_freed_memory", lambda: calls.append(1))
    assert cpu_memory.release_if_short() is released
    assert len(calls) == int(released)
