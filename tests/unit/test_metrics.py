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


def test_report_has_both_modes_once_when_they_agree():
    report = ner_report([["B-PER"]], [["B-PER"]])
    assert report.startswith("seqeval, default mode (conlleval) and strict IOB2 mode agree\n")
    assert report.count("micro avg") == 1 and "PER" in report


def test_precision_and_recall_are_not_swapped():
    gold = [["B-PER", "O", "B-LOC", "O", "B-ORG"]]
    pred = [["B-PER", "O", "O", "O", "O"]]
    scores = ner_scores(gold, pred)
    # 1 predicted entity, right; 3 gold entities
    assert (scores["precision"], scores["recall"]) == (1.0, pytest.approx(1 / 3))
    assert scores["f1"] == pytest.approx(0.5)
    assert (scores["precision_strict"], scores["recall_strict"]) == (1.0, pytest.approx(1 / 3))


def test_per_type_scores_come_from_the_default_mode_and_hold_no_averages():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    scores = ner_scores(gold, pred)
    assert scores["f1_PER"] == 1.0  # the strict report would give 0.0
    assert scores["f1_strict"] == pytest.approx(2 / 3)
    keys = {"precision", "recall", "f1", "precision_strict", "recall_strict", "f1_strict"}
    assert set(scores) == keys | {"f1_PER", "f1_LOC"}


@pytest.mark.parametrize(
    "gold, pred", [([["B-PER", "O"]], [["O", "O"]]), ([["O"]], [["O"]]), ([["O"]], [["B-PER"]])]
)
def test_nothing_to_count_scores_zero(gold, pred):
    scores = ner_scores(gold, pred)
    assert [scores[k] for k in ("precision", "recall", "f1")] == [0.0, 0.0, 0.0]
    assert [scores[k] for k in ("precision_strict", "recall_strict", "f1_strict")] == [0.0] * 3


def test_report_shows_four_digits_and_the_strict_reading_apart():
    report = ner_report([["B-PER", "I-PER", "O", "B-LOC"]], [["I-PER", "I-PER", "O", "O"]])
    default, strict = report.split("seqeval, strict IOB2 mode")
    assert "PER     1.0000    1.0000    1.0000" in default
    assert "PER     0.0000    0.0000    0.0000" in strict
