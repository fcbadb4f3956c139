"""tunelab-curve: one run directory a point, resumed, summarised by K and method."""

import csv
import statistics

import pytest

from tests.conftest import compose_train
from tunelab.experiments.curve import curve


def curve_config(tmp_path, tiny_bert, table_dir, k, seeds):
    overrides = [
        f"data.dir={table_dir}",
        f"model.model_name_or_path={tiny_bert}",
        "trainer.accelerator=cpu",
        "trainer.devices=1",
        "trainer.max_epochs=1",
        "trainer.precision=32-true",
        "~callbacks.progress_bar",
    ]
    cfg = compose_train(
        tmp_path,
        [
            "data=csv",
            f"k={k}",
            f"seeds={seeds}",
            "~methods.setfit",
            "overrides=[" + ",".join(f"'{o}'" for o in overrides) + "]",
            f"output_dir={tmp_path / 'curve'}",
        ],
        config_name="curve",
        return_hydra_config=True,
    )
    return cfg


def test_curve_runs_each_point_once_and_summarises(tmp_path, tiny_bert, table_dir):
    summary = curve(curve_config(tmp_path, tiny_bert, table_dir, "[2,4]", "[0]"))
    assert [(s["k"], s["n"], s["std"]) for s in summary] == [(2, 1, 0.0), (4, 1, 0.0)]
    first = tmp_path / "curve" / "head" / "k2-seed0" / "metrics.json"
    stamp = first.stat().st_mtime_ns
    summary = curve(curve_config(tmp_path, tiny_bert, table_dir, "[2]", "[0,1]"))
    assert first.stat().st_mtime_ns == stamp  # read, not trained again
    with (tmp_path / "curve" / "curve.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["method"], r["k"], r["seed"]) for r in rows] == [
        ("head", "2", "0"),
        ("head", "2", "1"),
    ]
    assert [r["train_examples"] for r in rows] == ["4.0", "4.0"]
    values = [float(r["value"]) for r in rows]
    assert summary[0]["mean"] == pytest.approx(statistics.fmean(values))
    assert summary[0]["std"] == pytest.approx(statistics.stdev(values)) and summary[0]["n"] == 2
    assert "| head | 2 |" in (tmp_path / "curve" / "curve.md").read_text()
    assert (tmp_path / "curve" / "curve.png").stat().st_size > 1000
