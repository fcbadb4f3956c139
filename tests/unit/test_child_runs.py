"""Child runs: a failed or killed one says how in one line; structured settings become the
overrides Hydra reads back."""

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
    monkeypatch.setattr(child_runs, "run_command", lambda argv: -9)
    with pytest.raises(TunelabError, match=r"^continual step 1 \(MISC\) was killed by SIGKILL"):
        child_runs.run_once("train", [], tmp_path / "step1-MISC", "continual step 1 (MISC)")
    assert not (tmp_path / "step1-MISC" / "wall_seconds").exists()


def test_a_child_process_is_tunelab_with_the_callers_environment(tmp_path, monkeypatch, capfd):
    """The forked child is `python -m tunelab` in this process's folder and environment and with
    its standard output as they are now (not as when the server started); its exit status comes
    back."""
    assert child_runs.run_command(["no-such-command"]) == 2
    assert "no command 'no-such-command'" in capfd.readouterr().err
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUNELAB_ROOT", str(tmp_path / "elsewhere"))
    assert child_runs.run_command(["train", "--cfg", "job", "--resolve"]) == 0
    assert f"root_dir: {tmp_path / 'elsewhere'}\n" in capfd.readouterr().out


def test_without_a_forkserver_a_child_is_a_subprocess(monkeypatch, capfd):
    monkeypatch.setattr(child_runs.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert child_runs.run_command(["no-such-command"]) == 2
    assert "no command 'no-such-command'" in capfd.readouterr().err


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
