"""The CRF layer and document context, end to end with the tiny model."""

import pytest

from tests.conftest import compose_train, eval_config, tiny_train_overrides
from tunelab.data.conll import read_conll
from tunelab.eval import evaluate
from tunelab.models import TokenClassificationModule
from tunelab.train import train


@pytest.fixture(scope="module")
def crf_run(tmp_path_factory, tiny_bert, conll_dir):
    run_dir = tmp_path_factory.mktemp("crf_run")
    overrides = tiny_train_overrides(tiny_bert, conll_dir)
    overrides += ["trainer.max_epochs=4", "~callbacks.early_stopping", "model.crf=true"]
    return run_dir, train(compose_train(run_dir, overrides)), conll_dir


def test_crf_learns_and_its_scores_move(crf_run):
    run_dir, metrics, _ = crf_run
    assert metrics["test/f1"] > 0.5
    module = TokenClassificationModule.from_exported(str(run_dir / "model"))
    transitions, _, _ = module.crf.learned()
    # the CRF's own scores moved away from their zero start
    assert transitions.abs().max() > 0.01


def test_crf_export_reloads_and_reproduces_test_scores(tmp_path, crf_run):
    run_dir, metrics, conll_dir = crf_run
    assert (run_dir / "model" / "crf.safetensors").is_file()
    reloaded = evaluate(eval_config(tmp_path, conll_dir, f"model_dir={run_dir / 'model'}"))
    assert reloaded["test/f1"] == pytest.approx(metrics["test/f1"], abs=1e-12)
    assert (tmp_path / "predictions" / "test.conll").read_text() == (
        run_dir / "predictions" / "test.conll"
    ).read_text()


def test_crf_parameters_are_optimised_at_their_own_rate(tiny_bert):
    module = TokenClassificationModule(
        str(tiny_bert), ["O", "B-X", "I-X"], optimizer=None, crf=True, crf_lr_scale=10
    )
    groups = module.extra_parameter_groups(1e-3)
    assert groups[0]["lr"] == pytest.approx(1e-2)
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in module.crf.parameters()}


def test_document_context_trains_and_scores_every_word(tmp_path, tiny_bert, conll_dir):
    # Documents of four sentences each, marked by -DOCSTART- lines.
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("train.txt", "dev.txt", "test.txt"):
        blocks = (conll_dir / name).read_text().strip().split("\n\n")
        text = "".join(
            ("-DOCSTART- O\n\n" if i % 4 == 0 else "") + block + "\n\n"
            for i, block in enumerate(blocks)
        )
        (folder / name).write_text(text)
    overrides = tiny_train_overrides(tiny_bert, folder)
    overrides += ["trainer.max_epochs=1", "data.context=2"]
    metrics = train(compose_train(tmp_path / "run", overrides))
    assert 0.0 <= metrics["test/f1"] <= 1.0
    gold = read_conll(folder / "test.txt")
    predicted = read_conll(tmp_path / "run" / "predictions" / "test.conll", tag_column=-1)
    assert [s.words for s in predicted] == [s.words for s in gold]
