"""tunelab-compare: runs (or a multirun's jobs) side by side, with the config values that differ."""

from __future__ import annotations

import csv
import shutil

import pytest

from tests.conftest import compose_train, tiny_train_overrides
from tunelab.errors import TunelabError
from tunelab.experiments.compare import compare
from tunelab.training.train import train


def job_copy(run_dir, target, lr: str):
    """A run's record (.hydra and metrics.json only) with another learning rate."""
    target.mkdir(parents=True)
    shutil.copytree(run_dir / ".hydra", target / ".hydra")
    shutil.copy(run_dir / "metrics.json", target / "metrics.json")
    config = target / ".hydra" / "config.yaml"
    text = config.read_text()
    assert "  lr: " in text
    config.write_text(text.replace("  lr: ", f"  lr: {lr} # was ", 1))
    return target


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, tiny_bert, conll_dir):
    runs = []
    for lr in ("1e-3", "2e-3"):
        run_dir = tmp_path_factory.mktemp(f"lr{lr}")
        overrides = [*tiny_train_overrides(tiny_bert, conll_dir), f"optimizer.lr={lr}"]
        cfg = compose_train(run_dir, overrides)
        train(cfg)
        from omegaconf import OmegaConf

        (run_dir / ".hydra").mkdir(exist_ok=True)
        OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
        runs.append(run_dir)
    return runs


def test_two_runs_give_their_scores_and_the_differing_values(tmp_path, two_runs):
    markdown = compare([str(run) for run in two_runs], tmp_path / "out")
    with (tmp_path / "out" / "compare.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["optimizer.lr"] for row in rows] == ["0.001", "0.002"]
    assert all(row["val/f1"] and row["test/f1"] for row in rows)
    assert "paths.output_dir" not in rows[0] and "seed" not in rows[0]  # same in both, or a path
    assert "| optimizer.lr |" in markdown.read_text()
    assert (tmp_path / "out" / "compare.png").stat().st_size > 0


def test_a_multirun_folder_stands_for_its_jobs(tmp_path, two_runs):
    sweep = tmp_path / "multirun"
    for number, lr in enumerate(["0.1", "0.2", "0.3"]):
        job_copy(two_runs[0], sweep / str(number), lr)
    compare([str(sweep)], tmp_path / "out")
    with (tmp_path / "out" / "compare.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["run"].rsplit("/", 1)[-1] for row in rows] == ["0", "1", "2"]
    assert [row["optimizer.lr"].split()[0] for row in rows] == ["0.1", "0.2", "0.3"]


@pytest.mark.parametrize(
    "given, expected", [(["nowhere"], "not a run or multirun"), ([], "name a run or more")]
)
def test_mistakes_are_one_line(tmp_path, two_runs, given, expected):
    with pytest.raises(TunelabError, match=expected):
        compare(given, tmp_path / "out")


def test_one_run_is_shown_alone(tmp_path, two_runs):
    """The README runs tunelab-compare after the first run: it shows that run's scores."""
    markdown = compare([str(two_runs[0])], tmp_path / "out").read_text()
    assert str(two_runs[0]) in markdown and "One run: nothing to compare it with yet" in markdown
    assert markdown.count("\n|") == 2  # header rule and one row


def test_two_runs_on_the_same_items_are_paired(tmp_path, two_runs):
    """Each headline score gets the paired bootstrap difference and a verdict; a run against
    itself differs by exactly 0, with no clear difference."""
    markdown = compare([str(two_runs[0]), str(two_runs[1]), str(two_runs[0])], tmp_path / "out")
    text = markdown.read_text()
    assert "Paired bootstrap against" in text
    rows = [line for line in text.splitlines() if "| test/f1 |" in line and " vs " in line]
    assert len(rows) == 2
    verdicts = ("better", "worse", "no clear difference")
    assert rows[0].rstrip(" |").endswith(verdicts)
    assert "| +0.0000 | [+0.0000, +0.0000] | no clear difference |" in rows[1]
    assert "test/f1_ci95_low" in (tmp_path / "out" / "compare.csv").read_text()


def test_runs_without_predictions_are_shown_but_not_paired(tmp_path, two_runs):
    copy = job_copy(two_runs[0], tmp_path / "copy", "0.5")
    text = compare([str(two_runs[0]), str(copy)], tmp_path / "out").read_text()
    assert "not paired: " in text and "no such predictions file" not in text.split("|")[0]
