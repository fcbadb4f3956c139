"""Child runs: a failed or killed one says how in one line; structured settings become the
overrides Hydra reads back."""

import subprocess

import pytest

from tunelab.errors import TunelabError, run_failed
from tunelab.experiments import child_runs


def test_a_killed_run_names_its_signal_and_the_memory_hint(tmp_path):
    error = str(run_failed("continual step 2 (sports)", -9, tmp_path))
    assert "killed by SIGKILL, often the system running out of memory" in error
    assert "rerun to resume" in error and str(tmp_path) in error
    assert "memory" not in str(run_failed("step", -15, tmp_path))  # SIGTERM: no hint
    assert "exit status 2" in str(run_failed("step", 2, tmp_path))


def test_continual_step_killed_by_the_kernel_says_so(tmp_path, monkeypatch):
    killed = subprocess.CompletedProcess(args=[], returncode=-9)
    monkeypatch.setattr(child_runs.subprocess, "run", lambda *a, **k: killed)
    with pytest.raises(TunelabError, match=r"^continual step 1 \(MISC\) was killed by SIGKILL"):
        child_runs.run_once("train", [], tmp_path / "step1-MISC", "continual step 1 (MISC)")
    assert not (tmp_path / "step1-MISC" / "wall_seconds").exists()


@pytest.mark.parametrize(
    "value",
    [
        8,
        "sst2",
        "/a folder/with 'quotes'/x",
        ["LOC", "MISC"],
        [["LOC"], ["MISC", "ORG"]],
        {"order": [["PER"], ["LOC"]], "index": 1, "replay": 200, "seed": 42},
        {"spam": "An advert, with: punctuation."},
    ],
)
def test_structured_settings_become_overrides_hydra_reads_back(value):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = child_runs.overrides_of({"data.x": value})
    (parsed,) = OverridesParser.create().parse_overrides([override])
    assert parsed.key_or_group == "data.x" and parsed.value() == value
