"""The numbers behind the run pictures."""

from __future__ import annotations

from tunelab.training.plots import logged_series


def test_logged_series_reads_one_key(tmp_path):
    source = tmp_path / "metrics.csv"
    source.write_text("epoch,step,train/loss,val/f1\n0,9,0.5,\n0,9,,0.25\n1,19,0.4,\n")
    assert logged_series(source, "train/loss") == ([9, 19], [0.5, 0.4])
    assert logged_series(source, "val/f1") == ([9], [0.25])
