"""The packaged MPNet: its five wheels joined, unpacked and checked once, then every task and
method on it briefly (a few steps and batches of the real corpora)."""

import json
import shutil

import pytest

from tests.conftest import compose_train
from tests.slow.test_methods import SHORT
from tunelab.data.registry import MPNET, models_dir, resolve_model
from tunelab.errors import TunelabError
from tunelab.inference.export import export
from tunelab.inference.predictor import Predictor
from tunelab.training.train import train

pytestmark = pytest.mark.slow


def test_the_parts_unpack_once_into_a_checked_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_MODELS", str(tmp_path))
    folder = resolve_model("sentence-transformers/all-mpnet-base-v2")
    assert folder.startswith(str(tmp_path)) and (tmp_path / folder).is_dir()
    assert json.loads((tmp_path / folder / "config.json").read_text())["model_type"] == "mpnet"
    assert not list(tmp_path.glob("*/desktop.ini"))
    assert resolve_model("all-mpnet-base-v2") == folder  # the second time: read, not unpacked
    (tmp_path / folder / MPNET.checked).write_bytes(b"corrupt")
    from tunelab.data import registry

    registry._sha256.cache_clear()
    with pytest.raises(TunelabError, match="does not match its pinned sha256"):
        resolve_model("all-mpnet-base-v2")
    assert models_dir() == tmp_path


@pytest.mark.parametrize(
    "data, method, extra",
    [
        ("conll2003", "finetune", ["peft=lora"]),
        ("sst2", "finetune", []),
        ("sst2", "setfit", ["data.k_shot=8"]),
        ("bbc_news", "zero_shot", []),
        ("text", "finetune", ["data.from=sst2"]),
    ],
)
def test_every_task_and_method_runs_on_mpnet(tmp_path, data, method, extra):
    overrides = [f"data={data}", f"method={method}", "model=mpnet", *SHORT, *extra]
    metrics = train(compose_train(tmp_path, overrides))
    assert any(key.startswith("test/") for key in metrics)
    model_dir = tmp_path / "model"
    saved = json.loads((model_dir / "tunelab.json").read_text())
    assert saved["method"] == method
    if data in ("conll2003", "sst2") and method == "finetune":
        texts = ["John Smith flew to Paris .", "A fine , moving film ."]
        found = Predictor(str(model_dir)).predict(texts)
        onnx_dir = tmp_path / "onnx_model"
        shutil.copytree(model_dir, onnx_dir)
        report = export(compose_train(tmp_path, [f"model_dir={onnx_dir}"], config_name="export"))
        assert report["model.onnx"]["label_agreement"] == 1.0
        assert [r["text"] for r in found] == texts
