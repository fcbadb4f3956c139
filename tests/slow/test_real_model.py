"""Real packaged model on real corpora (make test-slow)."""

import json

import pytest

from tests.conftest import compose_train
from tests.recompute import NER_COUNTS, assert_test_scores_recomputed, ner_scores_from_file
from tunelab.data.conll import read_conll
from tunelab.data.splits import load_ner_splits
from tunelab.training.train import train

pytestmark = pytest.mark.slow
# test/f1 of this test's run, measured on an AMD EPYC (AVX-512 BF16) at commit 9791b39; the
# bf16 numerics of another CPU kind move it a little, an untrained head scores 0.
MEASURED_F1 = 0.1307


def test_minilm_learns_wnut16(tmp_path):
    cfg = compose_train(
        tmp_path, ["trainer.accelerator=cpu", "trainer.max_epochs=2", "~callbacks.progress_bar"]
    )
    metrics = train(cfg)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    recomputed = ner_scores_from_file(tmp_path / "predictions" / "test.conll")
    assert_test_scores_recomputed(saved, recomputed, NER_COUNTS)
    print(f"WNUT-16, 2 epochs: test/f1 {metrics['test/f1']:.4f}")
    assert metrics["test/f1"] > MEASURED_F1 - 0.03, "well below the measured score"
    predicted = read_conll(tmp_path / "predictions" / "test.conll")
    gold = load_ner_splits(["test"], corpus="wnut16").sentences["test"]
    assert [s.words for s in predicted] == [s.words for s in gold]


@pytest.mark.parametrize(
    "name, sizes",
    [("conll2003", (14041, 3250, 3453)), ("wnut17", (3394, 1009, 1287))],
)
def test_benchmark_corpora_read_completely(name, sizes, tmp_path):
    cfg = compose_train(tmp_path, [f"data={name}"])
    loaded = load_ner_splits(["train", "dev", "test"], directory=cfg.data.dir)
    assert tuple(len(loaded.sentences[s]) for s in ["train", "dev", "test"]) == sizes


def test_msra_bmes_is_converted():
    loaded = load_ner_splits(["train", "dev", "test"], corpus="msra")
    assert loaded.scheme == "bioes"
    assert len(loaded.sentences["test"]) == 5000
    tags = {t for s in loaded.sentences["train"] for t in s.tags}
    assert tags == {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"}


def test_task_adaptive_pretraining_hands_over_to_fine_tuning(tmp_path):
    """The README's two commands: MLM on WNUT-17's text, then NER from the result."""
    mlm_dir, ner_dir = tmp_path / "mlm", tmp_path / "ner"
    quiet = ["trainer.accelerator=cpu", "~callbacks.progress_bar"]
    mlm = train(
        compose_train(mlm_dir, ["data=text", "data.from=wnut17", "trainer.max_epochs=1", *quiet])
    )
    assert mlm["test/masked_tokens"] > 1000 and mlm["test/perplexity"] < 30522  # beats uniform
    from transformers import pipeline

    filled = pipeline("fill-mask", model=str(mlm_dir / "model"))("i love [MASK] !")
    assert len(filled) == 5
    overrides = ["data=wnut17", f"model.model_name_or_path={mlm_dir / 'model'}", *quiet]
    ner = train(compose_train(ner_dir, [*overrides, "trainer.max_epochs=1"]))
    assert "test/f1" in ner and (ner_dir / "model" / "model.safetensors").is_file()
