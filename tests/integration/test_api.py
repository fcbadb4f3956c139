"""The Python API: the README's notebook example runs (on the tiny model and corpus), and gives
what the commands give."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import tunelab
from tests.conftest import tiny_train_overrides
from tunelab.inference.predictor import Predictor

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    start = text.index("## From Python")
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


def test_readme_example_runs(tmp_path, tiny_bert, conll_dir, capsys):
    code = readme_example()
    listed = re.search(r"tunelab\.train\((\[.*?\])\)", code).group(1)
    tiny = tiny_train_overrides(tiny_bert, conll_dir) + [f"paths.log_dir={tmp_path}"]
    namespace: dict = {}
    exec(code.replace(listed, repr(tiny)), namespace)  # noqa: S102 - the README's own code
    run, dev, model = namespace["run"], namespace["dev"], namespace["model"]
    assert run.dir.parent == tmp_path / "train" / "runs" and dev.dir.parent.name == "runs"
    saved = json.loads((run.dir / "metrics.json").read_text())
    assert saved["test/f1"] == pytest.approx(run.metrics["test/f1"])
    assert "test/f1" in dev.metrics and (dev.dir / "metrics.json").is_file()
    assert (run.dir / ".hydra" / "config.yaml").is_file() and (run.dir / "train.log").is_file()
    assert "labels:" in (run.dir / "train.log").read_text()
    assert isinstance(model, Predictor)
    shown = capsys.readouterr()
    assert "'entities'" in shown.out
    # as in a notebook, where nothing configures logging: tunelab's own lines are shown
    assert "[tunelab] test scores: test/f1" in shown.err
    assert "[tunelab] epoch 0: val/precision" in shown.err


def test_train_keeps_its_name_when_the_command_module_is_imported():
    import tunelab.training.train as _  # noqa: F401 - must not replace tunelab.train

    assert callable(tunelab.train) and tunelab.train.__module__ == "tunelab"
    from tunelab.training.train import main

    assert callable(main)


def test_overrides_must_be_a_list(tmp_path):
    with pytest.raises(TypeError, match="list of strings"):
        tunelab.train("data=conll2003", output_dir=tmp_path)


def test_a_user_error_leaves_no_run_directory(tmp_path, tiny_bert, conll_dir):
    from tunelab.errors import TunelabError

    overrides = tiny_train_overrides(tiny_bert, conll_dir) + [
        f"paths.log_dir={tmp_path}",
        "callbacks.keep_checkpoints=sometimes",
    ]
    with pytest.raises(TunelabError, match="keep_checkpoints"):
        tunelab.train(overrides)
    assert not list((tmp_path / "train" / "runs").glob("*"))
