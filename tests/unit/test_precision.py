"""The default precision follows a measurement, kept per machine, and reruns keep the run's own."""

import json

import pytest

from tunelab.experiments.rerun import precision_overrides
from tunelab.speed import precision

BF16_CPU = {"model name": "Some CPU", "flags": "fpu sse avx512f avx512_bf16"}


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A CPU with bf16 instructions, no GPU, an empty cache; `timings` counts the measurements."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr(precision, "cpu_info", lambda: dict(BF16_CPU))
    timings = []

    def measured(speedup):
        monkeypatch.setattr(precision, "measure_bf16_speedup", lambda: timings.append(1) or speedup)

    return measured, timings


@pytest.mark.parametrize(("speedup", "chosen"), [(2.3, "bf16-mixed"), (0.52, "32-true")])
def test_bf16_only_where_measured_faster(machine, speedup, chosen):
    measured, _ = machine
    measured(speedup)
    assert precision.default_precision() == chosen


def test_the_verdict_is_measured_once_per_machine(machine, monkeypatch):
    measured, timings = machine
    measured(2.0)
    assert precision.default_precision() == "bf16-mixed"
    measured(0.5)  # a second timing would now disagree: the cache must answer
    assert precision.default_precision() == "bf16-mixed"
    assert len(timings) == 1
    monkeypatch.setattr(precision, "cpu_info", lambda: {**BF16_CPU, "model name": "Other CPU"})
    assert precision.default_precision() == "32-true"
    assert len(timings) == 2


def test_a_damaged_cache_is_measured_again(machine):
    measured, timings = machine
    precision.cache_file().parent.mkdir(parents=True)
    precision.cache_file().write_text("{not json")
    measured(2.0)
    assert precision.default_precision() == "bf16-mixed"
    assert json.loads(precision.cache_file().read_text())["bf16_speedup"] == 2.0
    assert len(timings) == 1


def test_no_bf16_instructions_means_fp32_without_timing(machine, monkeypatch):
    _, timings = machine
    monkeypatch.setattr(precision, "cpu_info", lambda: {"flags": "fpu sse avx2"})
    assert precision.default_precision() == "32-true"
    assert timings == []


def test_the_timing_gives_a_ratio():
    assert precision.measure_bf16_speedup(repeats=1, products=1) > 0


def test_a_rerun_keeps_the_recorded_precision_unless_told():
    record = {"precision": "bf16-mixed"}
    assert precision_overrides(record, []) == ["trainer.precision=bf16-mixed"]
    assert precision_overrides(record, ["trainer.precision=32-true"]) == []
    assert precision_overrides({}, []) == []  # a run of an older tunelab: today's default
