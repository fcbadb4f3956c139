"""The few-label methods on the packaged MiniLM and real corpora, once each (make test-slow).
Floors sit below figures measured on an AMD EPYC (AVX-512 BF16), README "Results"; chance is 50%
on SST-2 and 20% on BBC News."""

import json

import pytest

from tests.conftest import compose_train
from tunelab.eval import evaluate
from tunelab.train import train

pytestmark = pytest.mark.slow
QUIET = ["trainer.accelerator=cpu", "~callbacks.progress_bar"]


def test_contrastive_few_shot_on_sst2(tmp_path):
    # seed 0: 0.5700 (scripts/few_shot_benchmark.py); the setfit library 0.5717
    overrides = ["data=sst2", "data.k_shot=8", "seed=0", "model=setfit", *QUIET]
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
    assert saved["task"] == "zero_shot" and len(saved["descriptions"]) == 5


def test_five_shot_ner_on_conll2003_trains_enough_steps(tmp_path):
    # seed 0: 0.3243 (tunelab-curve); one pass an epoch (five steps) gave 0.04 on seed 100
    overrides = ["data=conll2003", "data.k_shot=5", "seed=0", *QUIET]
    metrics = train(compose_train(tmp_path, overrides))
    assert metrics["data/train_examples"] < 20
    assert metrics["test/f1"] > 0.2
