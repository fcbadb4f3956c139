"""Bad input ends with one line naming the problem and where it is, exit status 2, no traceback."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import compose_train, write_conll
from tunelab.errors import TunelabError
from tunelab.training.train import train

GOOD = [[("john", "B-PER"), ("went", "O")]]


def run_train(data_dir, tiny_bert):
    command = [
        sys.executable,
        "-m",
        "tunelab",
        "train",
        "data=conll",
        f"data.dir={data_dir}",
        f"model.model_name_or_path={tiny_bert}",
        "trainer.accelerator=cpu",
        f"hydra.run.dir={data_dir}/run",
        "debug=fdr",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


BAD_INPUT = [
    ("empty", "", "train.txt: no sentences found"),
    ("one_column", "john B-PER\nwent\n", "train.txt:2: expected 'word ... TAG'"),
    (
        "bad_tag",
        "john B-PER\nwent X-PER\n",
        "train.txt:2: tag 'X-PER' is neither 'O' nor PREFIX-TYPE",
    ),
    ("unseen_label", "john B-PER\n", "test.txt:1: label 'B-LOC' (test split) never occurs"),
]


def write_case(folder, case: str, train_text: str) -> None:
    (folder / "train.txt").write_text(train_text)
    write_conll(folder / "dev.txt", GOOD)
    write_conll(folder / "test.txt", [[("paris", "B-LOC")]] if case == "unseen_label" else GOOD)


def test_bad_input_gives_one_line_error_on_the_command_line(tmp_path, tiny_bert):
    case, train_text, expected = BAD_INPUT[1]
    write_case(tmp_path, case, train_text)
    result = run_train(tmp_path, tiny_bert)
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("tunelab: error:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case, train_text, expected", BAD_INPUT)
def test_bad_input_is_an_error_of_one_line_naming_file_and_line(
    tmp_path, tiny_bert, case, train_text, expected
):
    """Every case in the process: the command line prints a TunelabError as its one line (the
    test above), so its text must hold the place and be one line."""
    write_case(tmp_path, case, train_text)
    overrides = ["data=conll", f"data.dir={tmp_path}", f"model.model_name_or_path={tiny_bert}"]
    cfg = compose_train(tmp_path / "run", [*overrides, "trainer.accelerator=cpu", "debug=fdr"])
    with pytest.raises(TunelabError) as raised:
        train(cfg)
    assert expected in str(raised.value) and "\n" not in str(raised.value)


def test_multirun_sweep_gives_one_run_directory_per_value(tmp_path, tiny_bert, conll_dir):
    command = [
        sys.executable,
        "-m",
        "tunelab",
        "train",
        "-m",
        "data=conll",
        f"data.dir={conll_dir}",
        f"model.model_name_or_path={tiny_bert}",
        "trainer.accelerator=cpu",
        "debug=fdr",
        "optimizer.lr=1e-3,3e-3",
        "~callbacks.progress_bar",
        f"hydra.sweep.dir={tmp_path}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for job in ["0", "1"]:
        assert (tmp_path / job / "metrics.json").is_file()
    overrides = (tmp_path / "1" / ".hydra" / "overrides.yaml").read_text()
    assert "optimizer.lr=0.003" in overrides  # Hydra writes the parsed value
    # The multirun ends with its summary; the command line tool writes the same table.
    rows = (tmp_path / "summary.csv").read_text().splitlines()
    assert rows[0] == (
        "job,optimizer.lr,val/f1,test/f1,test/f1_ci95_low,test/f1_ci95_high,test/f1_strict,status"
    )
    assert [row.split(",")[1] for row in rows[1:]] == ["0.001", "0.003"]
    f1 = json.loads((tmp_path / "1" / "metrics.json").read_text())["test/f1"]
    assert float(rows[2].split(",")[3]) == f1
    assert (tmp_path / "summary.png").stat().st_size > 1000
    (tmp_path / "summary.md").unlink()
    summary = subprocess.run(
        [sys.executable, "-m", "tunelab", "sweep-summary", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert summary.returncode == 0 and "| job | optimizer.lr |" in summary.stdout
    assert (tmp_path / "summary.md").is_file()


def test_optuna_search_resumes_from_its_sqlite_study(tmp_path, tiny_bert, conll_dir):
    import optuna

    storage = f"sqlite:///{tmp_path / 'study.db'}"

    def search(trials: int, sweep_dir: str) -> subprocess.CompletedProcess:
        command = [
            sys.executable,
            "-m",
            "tunelab",
            "train",
            "hparams_search=optuna",
            "data=conll",
            f"data.dir={conll_dir}",
            f"model.model_name_or_path={tiny_bert}",
            "trainer.accelerator=cpu",
            "debug=fdr",
            f"hydra.sweeper.n_trials={trials}",
            f"hydra.sweeper.storage={storage}",
            f"hydra.sweep.dir={tmp_path / sweep_dir}",
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    first = search(1, "first")
    assert first.returncode == 0, first.stderr[-2000:]
    # n_trials is the study's total: with 1 stored, a search for 2 runs only the second ...
    second = search(2, "second")
    assert second.returncode == 0, second.stderr[-2000:]
    study = optuna.load_study(study_name="train", storage=storage)
    assert [t.number for t in study.trials] == [0, 1]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert len(list((tmp_path / "second").glob("*/metrics.json"))) == 1
    # ... and once all are done, the same command runs none.
    third = search(2, "third")
    assert third.returncode == 0, third.stderr[-2000:]
    assert len(optuna.load_study(study_name="train", storage=storage).trials) == 2


def test_unreachable_hub_model_is_a_one_line_error(tmp_path, conll_dir):
    command = [
        sys.executable,
        "-m",
        "tunelab",
        "train",
        "data=conll",
        f"data.dir={conll_dir}",
        "model=bert_base_cased",
        f"hydra.run.dir={tmp_path}",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("tunelab: error:")]
    assert len(errors) == 1 and "cannot load 'bert-base-cased'" in errors[0]
