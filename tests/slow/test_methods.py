"""Each method composes with a data preset of its task and runs, on the packaged encoder and the
real corpora (briefly: a few steps and batches)."""

import json

import pytest

from tests.conftest import compose_train
from tunelab.training.train import train

pytestmark = pytest.mark.slow
SHORT = [
    "+trainer.max_steps=4",
    "+trainer.limit_val_batches=2",
    "+trainer.limit_test_batches=2",
    "~callbacks.progress_bar",
]


@pytest.mark.parametrize(
    "data, method, extra",
    [
        ("sst2", "setfit", ["data.k_shot=8"]),
        ("rotten_tomatoes", "prompt", ["data.k_shot=8"]),
        ("bbc_news", "zero_shot", []),
        ("conll2003", "finetune", []),
    ],
)
def test_the_method_runs_on_its_preset(tmp_path, data, method, extra):
    metrics = train(compose_train(tmp_path, [f"data={data}", f"method={method}", *SHORT, *extra]))
    saved = json.loads((tmp_path / "model" / "tunelab.json").read_text())
    assert saved["method"] == method and ("test/f1" in metrics or "test/acc" in metrics)
