"""One line for every user mistake in the Python API, the commands made of runs (continual,
curve), compare and rerun: a table row a case, each ending in one `TunelabError` line (or exit
status with one `tunelab: error:` line), never a traceback, a hang or a silent wrong answer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import compose_train, tiny_train_overrides
from tests.integration.test_bad_input import expect_error
from tunelab.experiments.child_runs import run_once
from tunelab.inference.predictor import Predictor


# -- the Python API ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def predictor(trained_run):
    return Predictor(str(trained_run[0] / "model"), precision="32-true", max_chars=1000)


@pytest.mark.parametrize(
    "texts, expected",
    [
        (None, "texts is NoneType: give a list of texts"),
        ("john lives in paris", "texts is one string: give a list of texts, e.g. predict([text])"),
        ([None], "texts[0] is NoneType, not a text"),
        (["john", 3], "texts[1] is int, not a text"),
        (["x \ud800 y"], "texts[0] holds a lone surrogate at character 2"),
        (["a" * 1001], "texts[0] has 1,001 characters; at most 1,000 (max_chars=None"),
    ],
)
def test_predict_names_the_text_it_cannot_take(predictor, texts, expected):
    expect_error(lambda: predictor.predict(texts), expected)


def test_predict_of_an_empty_list_is_an_empty_list(predictor):
    assert predictor.predict([]) == []


@pytest.mark.parametrize(
    "setting, expected",
    [
        ({"precision": "fp8"}, "precision='fp8'; choose one of bf16-mixed, 32-true"),
        ({"batch_size": 0}, "batch_size=0; use a whole number >= 1"),
        ({"max_tokens": 2.5}, "max_tokens=2.5; use a whole number >= 1"),
        ({"max_chars": -1}, "max_chars=-1; use a whole number >= 1"),
    ],
)
def test_load_refuses_a_wrong_setting_before_loading(tmp_path, setting, expected):
    import tunelab

    expect_error(lambda: tunelab.load(tmp_path / "nothing-here", **setting), expected)


# -- continual and curve: settings checked before the first run --------------------------
@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["continual.order=[]"], "continual.order=[]: list the labels to learn"),
        (["continual.order=[[PER,LOC],[]]"], "continual.order[1]=[]: a step is a label name"),
        (["continual.order=[PER,{a:1}]"], "continual.order[1]="),
        (["continual.order=[PER,true]"], "continual.order[1]=True: a step is a label name"),
        (["continual.replay=-5"], "continual.replay=-5 is not allowed: use an integer >= 0"),
        (["continual.method=../up"], "continual.method=../up: one of"),
    ],
)
def test_continual_mistakes_are_one_line(tmp_path, tiny_bert, conll_dir, overrides, expected):
    from tunelab.experiments.continual import continual

    base = [*tiny_train_overrides(tiny_bert, conll_dir), f"continual.output_dir={tmp_path}/c"]
    cfg = compose_train(tmp_path, [*base, *overrides], "continual", return_hydra_config=True)
    expect_error(lambda: continual(cfg), expected)
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["k=[]"], "k=[]: give a list"),
        (["k=[2.7]"], "k holds 2.7: use whole numbers >= 1"),
        (["k=[0]"], "k holds 0: use whole numbers >= 1"),
        (["k=[2,2]"], "k lists 2 twice"),
        (["seeds=[0,0]"], "seeds lists 0 twice"),
        (["seeds=[-1]"], "seeds holds -1: use whole numbers >= 0"),
        (["+methods={../../x: []}"], "methods.../../x: a method's name is a folder name"),
        (["methods=null"], "methods is empty"),
        (["metric=test/nonsense"], "metric='test/nonsense' is not a score a run writes"),
        (["metric=test/f1_fresh"], "metric=test/f1_fresh: fresh is not a label of the data"),
    ],
)
def test_curve_mistakes_are_one_line_before_training(tmp_path, overrides, expected):
    from tunelab.experiments.curve import curve

    cfg = compose_train(
        tmp_path, [f"output_dir={tmp_path}/curve", *overrides], "curve", return_hydra_config=True
    )
    expect_error(lambda: curve(cfg), expected)
    assert not (tmp_path / "curve").exists()


def test_a_finished_child_run_with_other_settings_is_not_read_back(tmp_path, trained_run):
    """The run store compares a finished folder's recorded overrides with the ones asked for."""
    run_dir = tmp_path / "step0"
    shutil.copytree(trained_run[0], run_dir)
    (run_dir / ".hydra").mkdir(exist_ok=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text("- data=conll\n- data.dir=/a\n")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    same = run_once("train", ["data.dir=/a", "data=conll", "hydra.run.dir=x"], run_dir, "step 0")
    assert same["test/f1"] == metrics["test/f1"]
    expect_error(
        lambda: run_once("train", ["data=conll", "data.dir=/b"], run_dir, "step 0"),
        f"step 0: {run_dir} holds a finished run with other settings (now data.dir=/b; "
        "then data.dir=/a)",
    )
    (run_dir / ".hydra" / "overrides.yaml").unlink()
    expect_error(lambda: run_once("train", ["data=conll"], run_dir, "step 0"), "no readable .hydra")


# -- compare and rerun on broken run folders ---------------------------------------------
def run_folder(tmp_path, name: str, config: str, metrics: str | None) -> str:
    folder = tmp_path / name
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text(config)
    if metrics is not None:
        (folder / "metrics.json").write_text(metrics)
    (folder / "run_record.json").write_text("{}")
    return str(folder)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" + "".join(
    f"c{i}: &c{i} [*{'b' if i == 0 else f'c{i - 1}'}, *{'b' if i == 0 else f'c{i - 1}'}]\n"
    for i in range(30)
)


@pytest.mark.parametrize(
    "config, expected",
    [
        ("seed: [1, 2\nmodel: x\n", "config.yaml:2: not valid YAML"),
        (BOMB, "config.yaml:2: not valid YAML (holds a YAML alias (*name): refused)"),
        ("- a list\n", "config.yaml: not a config (a YAML mapping)"),
    ],
)
@pytest.mark.parametrize("command", ["compare", "rerun"])
def test_a_broken_run_config_is_one_line(tmp_path, config, expected, command):
    bad = run_folder(tmp_path, "bad", config, '{"test/f1": 0.5}')
    good = run_folder(tmp_path, "good", "seed: 1\n", '{"test/f1": 0.5}')
    args = [bad, good, "--out", str(tmp_path / "cmp")] if command == "compare" else [bad]
    result = subprocess.run(
        [sys.executable, "-m", "tunelab", command, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("tunelab: error: ") and expected in line, result.stderr


def test_compare_names_a_broken_metrics_file_and_compares_the_rest(tmp_path):
    from tunelab.experiments.compare import compare

    broken = run_folder(tmp_path, "broken", "seed: 1\ntask: ner\n", '{"test/f1": 0.5,')
    good = run_folder(tmp_path, "good", "seed: 2\ntask: ner\n", '{"test/f1": 0.75}')
    markdown = compare([broken, good], tmp_path / "cmp").read_text()
    assert "unreadable metrics.json" in markdown and "metrics.json:1: not valid JSON" in markdown
    assert "0.7500" in markdown


def test_compare_never_imports_a_task_a_run_folder_names(tmp_path, monkeypatch):
    from tunelab.experiments.compare import compare

    marker = tmp_path / "ran"
    (tmp_path / "evil_task.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    one = run_folder(tmp_path, "one", "seed: 1\ntask: evil_task\n", '{"test/f1": 0.5}')
    two = run_folder(tmp_path, "two", "seed: 2\ntask: ner\n", '{"test/f1": 0.75}')
    assert "0.7500" in compare([one, two], tmp_path / "cmp").read_text()
    assert not marker.exists()


# -- training commands -------------------------------------------------------------------
def text_folder(tmp_path):
    folder = tmp_path / "text"
    folder.mkdir()
    words = ["john", "went", "to", "paris", "with", "mary", "today"]
    lines = [" ".join(words[i % 7 :] + words[: i % 7]) for i in range(120)]
    (folder / "train.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("task", ["ner", "mlm"])
def test_max_steps_within_the_first_epoch_validates_at_its_end(
    tmp_path, tiny_bert, conll_dir, task
):
    from tunelab.training.train import train

    overrides = tiny_train_overrides(tiny_bert, conll_dir)
    if task == "mlm":
        overrides = [o for o in overrides if "running_length" not in o]
        overrides[:2] = ["data=text", f"data.dir={text_folder(tmp_path)}", "data.max_length=16"]
    metrics = train(compose_train(tmp_path / "run", [*overrides, "+trainer.max_steps=2"]))
    assert ("val/loss" if task == "mlm" else "val/f1") in metrics
    rows = (tmp_path / "run" / "csv" / "metrics.csv").read_text().splitlines()
    assert any(row.split(",")[0] for row in rows[1:])  # logged


def test_a_missing_text_folder_leaves_no_run_directory(tmp_path, tiny_bert):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "tunelab", "train", "data=text"]
    command += [f"model.model_name_or_path={tiny_bert}", f"hydra.run.dir={run_dir}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tunelab: error: set exactly one of data.dir (a folder of text) or data.from=PRESET"
    ]
    assert not run_dir.exists()


@pytest.mark.parametrize(
    "override, expected",
    [
        ("opset=abc", "opset='abc' is not allowed: use an integer from 14 to 21"),
        ("quantize=int4", "quantize='int4'; choose int8 or leave it unset"),
        ("format=tflite", "format='tflite'; tunelab-export writes format=onnx"),
    ],
)
def test_export_mistakes_are_one_line(tmp_path, trained_run, override, expected):
    from tunelab.inference.export import export

    model_dir = trained_run[0] / "model"
    cfg = compose_train(tmp_path, [f"model_dir={model_dir}", override], "export")
    expect_error(lambda: export(cfg), expected)
