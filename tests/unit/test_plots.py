"""The numbers behind the run pictures."""

from __future__ import annotations

import pytest

from tunelab.training.plots import calibration, logged_series


def test_calibration_bins_and_ece():
    confidences = [0.95, 0.95, 0.55, 0.55, 0.55, 0.55]
    correct = [True, True, True, False, False, True]
    centres, accuracies, counts, ece = calibration(confidences, correct)
    assert centres == pytest.approx([0.55, 0.95]) and counts == [4, 2]
    assert accuracies == [0.5, 1.0]
    assert ece == pytest.approx(4 / 6 * 0.05 + 2 / 6 * 0.05)
    assert calibration([1.0], [True])[2] == [1]  # confidence 1 falls in the last bin


def test_logged_series_reads_one_key(tmp_path):
    source = tmp_path / "metrics.csv"
    source.write_text("epoch,step,train/loss,val/f1\n0,9,0.5,\n0,9,,0.25\n1,19,0.4,\n")
    assert logged_series(source, "train/loss") == ([9, 19], [0.5, 0.4])
    assert logged_series(source, "val/f1") == ([9], [0.25])
