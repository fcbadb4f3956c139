"""The continual report: the matrix, its summary figures and the files beside the steps."""

import json

import pytest

from tunelab.experiments.continual_report import report, write_report


def steps(*rows: dict) -> list[dict]:
    return [{**row, "wall_seconds": 1.0} for row in rows]


def test_forgetting_is_the_best_earlier_score_minus_the_final_one(tmp_path):
    result = report(
        [["LOC"], ["PER"]],
        steps(
            {"test/f1_LOC": 0.8, "test/f1_PER": 0.1, "micro": 0.8},
            {"test/f1_LOC": 0.5, "test/f1_PER": 0.9, "micro": 0.7},
        ),
        "micro",
    )
    assert result["matrix"] == [[0.8, None], [0.5, 0.9]]  # PER not shown before its step
    assert result["forgetting"] == {"LOC": pytest.approx(0.3)}
    assert result["average_incremental_f1"] == pytest.approx(0.75)
    write_report(result, "finetune, seed 1", tmp_path)
    assert "| micro F1 (seen) |" in (tmp_path / "continual.md").read_text()
    assert (tmp_path / "continual.png").stat().st_size > 0


def test_domains_say_their_score_is_a_mean_and_keep_scores_before_learning(tmp_path):
    result = report(
        [["sst2"], ["tweets"]],
        steps(
            {"test/f1_sst2": 0.9, "test/f1_tweets": 0.8, "seen": 0.9},
            {"test/f1_sst2": 0.85, "test/f1_tweets": 0.9, "seen": 0.875},
        ),
        "seen",
        unseen=True,
        seen_name="mean (domains seen)",
    )
    assert result["matrix"][0] == [0.9, 0.8]
    write_report(result, "replay, seed 1", tmp_path)
    assert "| mean (domains seen) |" in (tmp_path / "continual.md").read_text()
    assert (
        json.loads((tmp_path / "continual.json").read_text())["seen_name"] == "mean (domains seen)"
    )
    assert (tmp_path / "continual.png").stat().st_size > 0
