"""tunelab-export format=onnx: the graph gives the PyTorch model's scores; backend=onnx runs it in
evaluation, prediction and serving code unchanged; int8 is checked and reported."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from tests.conftest import compose_train
from tunelab.errors import TunelabError
from tunelab.inference.eval import evaluate
from tunelab.inference.export import export
from tunelab.inference.predictor import Predictor

TEXTS = ["john lives in paris", "mary works for acme in london today", "rome"]


def exported(tmp_path, run_dir, *overrides):
    """A copy of the run's model folder, exported to ONNX (fp32 and int8)."""
    model_dir = tmp_path / "model"
    shutil.copytree(run_dir / "model", model_dir)
    cfg = compose_train(
        tmp_path, [f"model_dir={model_dir}", "quantize=int8", *overrides], config_name="export"
    )
    return model_dir, export(cfg)


def evaluated(tmp_path, model_dir, *overrides) -> dict:
    overrides = [f"model_dir={model_dir}", "trainer.precision=32-true", *overrides]
    cfg = compose_train(tmp_path, overrides, config_name="eval", return_hydra_config=True)
    return evaluate(cfg)


def test_ner_graph_scores_as_pytorch_in_eval_and_predict(tmp_path, trained_run):
    # the gate's speed check is left out: int8 on a tiny model need not be faster
    model_dir, report = exported(tmp_path, trained_run[0], "gate.min_speedup=0")
    assert json.loads((model_dir / "onnx" / "check.json").read_text()) == report
    assert report["gate"]["accepted"] and report["gate"]["failed"] == []
    assert report["model.onnx"]["label_agreement"] == 1.0
    assert report["model.onnx"]["max_abs_logit_diff"] < 1e-3
    assert 0.9 <= report["model.int8.onnx"]["label_agreement"] <= 1.0
    assert report["files"]["model.int8.onnx"] < report["files"]["model.onnx"]
    torch_f1 = evaluated(tmp_path / "torch", model_dir)["test/f1"]
    assert evaluated(tmp_path / "onnx", model_dir, "backend=onnx")["test/f1"] == pytest.approx(
        torch_f1, abs=1e-6
    )
    reference = Predictor(str(model_dir), precision="32-true", pack=False).predict(TEXTS)
    graph = Predictor(str(model_dir), backend="onnx")
    assert graph.settings["pack"] is False and graph.precision == "32-true"
    found = graph.predict(TEXTS)
    assert [r["entities"] for r in found] == [r["entities"] for r in reference]
    int8 = Predictor(str(model_dir), backend="onnx", onnx_model="model.int8.onnx")
    assert [r["text"] for r in int8.predict(TEXTS)] == TEXTS
    assert report["torch_int8_gate"]["accepted"]
    packed = Predictor(str(model_dir), backend="torch_int8")  # keeps NER's packed rows,
    assert packed.settings["pack"] is True
    assert packed.module._position_offset == 0  # as checked on the fp32 model first
    assert [r["text"] for r in packed.predict(TEXTS)] == TEXTS
    int8_f1 = evaluated(tmp_path / "int8", model_dir, "backend=torch_int8")["test/f1"]
    assert int8_f1 == pytest.approx(report["torch_int8_gate"]["int8"]["score"], abs=1e-9)


def test_classification_graph_gives_the_same_labels(tmp_path, classified_run):
    model_dir, report = exported(tmp_path, classified_run[0], "check=false")
    assert set(report) == {"files"}
    reference = Predictor(str(model_dir), precision="32-true").predict(TEXTS)
    found = Predictor(str(model_dir), backend="onnx").predict(TEXTS)
    for ours, theirs in zip(found, reference, strict=True):
        assert ours["label"] == theirs["label"]
        for label, p in theirs["probabilities"].items():
            assert ours["probabilities"][label] == pytest.approx(p, abs=1e-4)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda d: Predictor(str(d), backend="onnx"), "write it first with: tunelab-export"),
        (
            lambda d: Predictor(str(d), backend="tvm"),
            "backend='tvm'; choose one of torch, torch_int8, onnx",
        ),
        (lambda d: Predictor(str(d), backend="torch_int8"), "check it first: tunelab-export"),
    ],
)
def test_backend_mistakes_are_one_line(tmp_path, trained_run, call, expected):
    with pytest.raises(TunelabError, match=expected.replace("(", r"\(")):
        call(trained_run[0] / "model")


@pytest.mark.parametrize("content", [b"not a graph", b""])
def test_a_broken_graph_is_one_line(tmp_path, trained_run, content):
    import shutil

    model_dir = tmp_path / "model"
    shutil.copytree(trained_run[0] / "model", model_dir)
    (model_dir / "onnx").mkdir(exist_ok=True)
    (model_dir / "onnx" / "model.onnx").write_bytes(content)
    with pytest.raises(TunelabError, match="is not a readable ONNX graph") as caught:
        Predictor(str(model_dir), backend="onnx")
    assert "\n" not in str(caught.value) and "tunelab-export model_dir=" in str(caught.value)


def test_the_int8_gate_keeps_a_graph_that_passes(tmp_path, classified_run, capsys):
    model_dir, report = exported(
        tmp_path, classified_run[0], "gate.max_drop=1", "gate.min_speedup=0"
    )
    gate = report["gate"]
    assert gate["accepted"] and gate["fp32"]["metric"] == "test/acc"
    assert abs(gate["fp32"]["score"] - gate["int8"]["score"]) <= 1
    assert (model_dir / "onnx" / "model.int8.onnx").is_file()
    out = capsys.readouterr().out
    assert "int8 ONNX graph accepted: test/acc" in out
    assert "PyTorch int8 (backend=torch_int8) accepted: test/acc" in out
    assert report["torch_int8_gate"]["accepted"]
    reference = Predictor(str(model_dir), precision="32-true").predict(TEXTS)
    int8 = Predictor(str(model_dir), backend="torch_int8")
    assert int8.precision == "32-true"
    quantized = [m for m in int8.module.model.modules() if "quantized" in type(m).__module__]
    assert quantized and not any(isinstance(m, torch.nn.Linear) for m in quantized)
    for ours, theirs in zip(int8.predict(TEXTS), reference, strict=True):
        for label, p in theirs["probabilities"].items():
            assert ours["probabilities"][label] == pytest.approx(p, abs=0.05)
    scored = evaluated(tmp_path / "int8", model_dir, "backend=torch_int8")["test/acc"]
    assert scored == pytest.approx(report["torch_int8_gate"]["int8"]["score"])


def test_the_int8_gate_turns_down_a_graph_that_fails(tmp_path, trained_run, capsys):
    """A gate no graph can pass (int8 must score a point above fp32, and be 1000x as fast):
    both reasons named, the int8 graph set aside, the fp32 graph kept and still served."""
    model_dir, report = exported(
        tmp_path, trained_run[0], "gate.max_drop=-1", "gate.min_speedup=1000"
    )
    gate = report["gate"]
    assert not gate["accepted"] and len(gate["failed"]) == 2
    out = capsys.readouterr().out
    assert "int8 ONNX graph rejected: test/f1" in out and "gate.max_drop=-1" in out
    assert "gate.min_speedup=1000" in out
    assert "PyTorch int8 (backend=torch_int8) rejected: test/f1" in out
    folder = model_dir / "onnx"
    assert (
        not (folder / "model.int8.onnx").exists()
        and (folder / "model.int8.rejected.onnx").is_file()
    )
    assert Predictor(str(model_dir), backend="onnx").predict(TEXTS)
    with pytest.raises(TunelabError, match="does not exist; write it first"):
        Predictor(str(model_dir), backend="onnx", onnx_model="model.int8.onnx")
    with pytest.raises(TunelabError, match="the quality gate turned this model down .*test/f1"):
        Predictor(str(model_dir), backend="torch_int8")
