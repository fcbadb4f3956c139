"""method=setfit end to end with the tiny model: scores, export, prediction, multi-label."""

import pytest

from tests.conftest import compose_train, eval_config, tiny_train_overrides
from tests.recompute import assert_classification_run_recomputed, predictions_agree_with_predict
from tunelab.errors import TunelabError
from tunelab.inference.eval import evaluate
from tunelab.training.train import train


def setfit_overrides(tiny_bert, folder, *extra):
    overrides = tiny_train_overrides(tiny_bert, folder, data="csv")
    overrides += ["method=setfit", f"model.model_name_or_path={tiny_bert}"]
    return overrides + ["trainer.precision=32-true", *extra]


@pytest.fixture(scope="module")
def setfit_run(tmp_path_factory, tiny_bert, table_dir):
    run_dir = tmp_path_factory.mktemp("setfit")
    overrides = setfit_overrides(tiny_bert, table_dir, "data.k_shot=6", "trainer.max_epochs=10")
    return run_dir, train(compose_train(run_dir, overrides))


def test_scores_recomputed_and_sample_used(setfit_run):
    run_dir, metrics = setfit_run
    saved = assert_classification_run_recomputed(run_dir, ["travel", "work"])
    assert saved["data/train_examples"] == 12 and metrics["test/acc"] > 0.5


def test_exported_model_evaluates_and_predicts_as_in_training(setfit_run, tmp_path, table_dir):
    run_dir, metrics = setfit_run
    cfg = eval_config(tmp_path / "eval", table_dir, f"model_dir={run_dir / 'model'}", data="csv")
    with_precision = cfg.copy()
    with_precision.trainer.precision = "32-true"
    assert evaluate(with_precision)["test/acc"] == pytest.approx(metrics["test/acc"])
    predictions_agree_with_predict(run_dir, tmp_path)


def test_multi_label_and_many_classes(tmp_path, tiny_bert):
    rows = [
        ("john went to paris", "travel|person"),
        ("acme said today", "work"),
        ("mary works for hooli", "work|person"),
        ("new york", "travel"),
        ("lima today", "city"),
        ("oslo and cairo", "city|travel"),
    ] * 6
    for name in ["train.csv", "dev.csv", "test.csv"]:
        (tmp_path / name).write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows))
    overrides = setfit_overrides(tiny_bert, tmp_path, "data.multi_label=true", "data.k_shot=2")
    metrics = train(compose_train(tmp_path / "run", [*overrides, "trainer.max_epochs=2"]))
    assert 0.0 <= metrics["test/acc"] <= 1.0 and metrics["data/train_examples"] >= 2


def test_setfit_refuses_peft(tmp_path, tiny_bert, table_dir):
    overrides = setfit_overrides(tiny_bert, table_dir, "peft=lora", "+trainer.fast_dev_run=true")
    with pytest.raises(TunelabError, match="peft=none"):
        train(compose_train(tmp_path, overrides))


@pytest.mark.parametrize("method", ["setfit", "prompt", "zero_shot", "nli"])
def test_classification_methods_refuse_ner_data(tmp_path, tiny_bert, conll_dir, method):
    overrides = [*tiny_train_overrides(tiny_bert, conll_dir), f"method={method}"]
    wanted = f"method={method} learns classification, but the data is ner data"
    with pytest.raises(TunelabError, match=wanted):
        train(compose_train(tmp_path, overrides))


def test_the_checkpoint_scores_as_the_export(setfit_run, tmp_path, table_dir):
    """The module's constructor arguments reach the checkpoint through its parent's (no patching
    of hparams afterwards): `tunelab-eval ckpt_path=...` rebuilds it."""
    run_dir, metrics = setfit_run
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    cfg = eval_config(
        tmp_path, table_dir, f"ckpt_path={ckpt}", "trainer.precision=32-true", data="csv"
    )
    assert evaluate(cfg)["test/acc"] == pytest.approx(metrics["test/acc"])


def test_setfit_trains_a_fixed_budget_and_tests_the_last_epoch(tmp_path):
    setfit = compose_train(tmp_path, ["data=sst2", "method=setfit"]).callbacks
    assert setfit.early_stopping is None and setfit.model_checkpoint.monitor is None
    plain = compose_train(tmp_path, ["data=sst2"]).callbacks
    assert plain.early_stopping.monitor == plain.model_checkpoint.monitor == "val/f1_macro"
