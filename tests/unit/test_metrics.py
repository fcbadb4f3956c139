import pytest

from tunelab.tasks.ner.metrics import ner_report, ner_scores


def test_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-LOC"]]
    scores = ner_scores(gold, pred)
    # gold entities 3, predicted 3, correct 2 (PER, ORG)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["f1_PER"] == 1.0 and scores["f1_LOC"] == 0.0


def test_strict_mode_rejects_orphan_inside_tags():
    gold = [["B-PER", "I-PER", "O"]]
    pred = [["I-PER", "I-PER", "O"]]
    scores = ner_scores(gold, pred)
    assert scores["f1"] == 1.0  # default mode reads I-PER as opening the entity
    assert scores["f1_strict"] == 0.0


def test_report_has_both_modes():
    report = ner_report([["B-PER"]], [["B-PER"]])
    assert "default mode" in report and "strict IOB2 mode" in report and "PER" in report
