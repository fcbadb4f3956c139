"""The few-label methods on the packaged MiniLM and real corpora, once each (make test-slow).
Floors sit below figures measured on an AMD EPYC (AVX-512 BF16), README "Results"; chance is 50%
on SST-2 and 20% on BBC News."""

import json

import pytest
from transformers import pipeline

from tests.conftest import compose_train
from tunelab.inference.eval import evaluate
from tunelab.training.train import train

pytestmark = pytest.mark.slow
QUIET = ["trainer.accelerator=cpu", "~callbacks.progress_bar"]


def test_contrastive_few_shot_on_sst2(tmp_path):
    # seed 0: 0.5700 (scripts/few_shot_benchmark.py); the setfit library 0.5717
    overrides = ["data=sst2", "data.k_shot=8", "seed=0", "method=setfit", *QUIET]
    metrics = train(compose_train(tmp_path, overrides))
    assert metrics["data/train_examples"] == 16
    assert metrics["test/acc"] > 0.54


def test_zero_shot_on_bbc_news(tmp_path):
    # 0.8700 with the default template
    cfg = compose_train(
        tmp_path, ["zero_shot=true", "data=bbc_news", "export=true", *QUIET[:1]], "eval", True
    )
    metrics = evaluate(cfg)
    assert metrics["test/acc"] > 0.84
    saved = json.loads((tmp_path / "model" / "tunelab.json").read_text())
    assert (saved["task"], saved["method"]) == ("classification", "zero_shot")
    assert len(saved["descriptions"]) == 5


def test_five_shot_ner_on_conll2003_trains_enough_steps(tmp_path):
    # seed 0: 0.3243 (tunelab-curve); one pass an epoch (five steps) gave 0.04 on seed 100
    overrides = ["data=conll2003", "data.k_shot=5", "seed=0", *QUIET]
    metrics = train(compose_train(tmp_path, overrides))
    assert metrics["data/train_examples"] < 20
    assert metrics["test/f1"] > 0.2


def test_prompt_based_on_sst2_from_a_warmed_mlm_head(tmp_path):
    # The packaged MiniLM has no masked-LM head: warm one on SST-2's own text first, as the
    # README does. Seeds 0-5 measured 55.02 +- 6.13 (seed 0: 0.5189), barely above chance, so the
    # floor only catches a broken path; the export must still load as a fill-mask model. About
    # 24 minutes on two shared cores (the one-epoch warm-up 17 of them).
    warm = ["data=text", "data.from=sst2", "trainer.max_epochs=1", *QUIET]
    train(compose_train(tmp_path / "mlm", warm))
    mlm = tmp_path / "mlm" / "model"
    overrides = ["data=sst2", "data.k_shot=8", "seed=0", "method=prompt", *QUIET]
    metrics = train(
        compose_train(tmp_path / "prompt", [*overrides, f"model.model_name_or_path={mlm}"])
    )
    assert metrics["data/train_examples"] == 16
    assert metrics["test/acc"] > 0.45
    fill = pipeline("fill-mask", model=str(tmp_path / "prompt" / "model"))
    words = [guess["token_str"] for guess in fill("a gripping film . it was [MASK] .", top_k=50)]
    assert "great" in words or "terrible" in words
