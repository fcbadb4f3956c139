"""The CRF layer and document context, end to end with the tiny model."""

from itertools import groupby

import pytest

from tests.conftest import compose_train, eval_config, tiny_train_overrides
from tests.recompute import NER_COUNTS, assert_test_scores_recomputed, ner_scores_from_file
from tunelab.data.conll import read_conll
from tunelab.inference.eval import evaluate
from tunelab.tasks.ner.datamodule import TokenClassificationDataModule
from tunelab.tasks.ner.module import TokenClassificationModule
from tunelab.training.train import train


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


def test_document_context_trains_and_scores_every_word(tmp_path, tiny_bert, docs_dir):
    overrides = tiny_train_overrides(tiny_bert, docs_dir)
    overrides += ["trainer.max_epochs=1", "data.context=2"]
    metrics = train(compose_train(tmp_path / "run", overrides))
    recomputed = ner_scores_from_file(tmp_path / "run" / "predictions" / "test.conll")
    assert_test_scores_recomputed(metrics, recomputed, NER_COUNTS)
    gold = read_conll(docs_dir / "test.txt")
    predicted = read_conll(tmp_path / "run" / "predictions" / "test.conll", tag_column=-1)
    assert [s.words for s in predicted] == [s.words for s in gold]


def test_document_windows_add_every_document_as_labelled_windows(tiny_bert, docs_dir):
    datamodule = TokenClassificationDataModule.from_config(
        str(tiny_bert),
        dir=str(docs_dir),
        max_length=24,
        stride=6,
        document_windows=True,
        running_text=0.0,
    )
    sentences = datamodule.sentences("train")
    items = datamodule.encoded("train")
    extra = [item for item in items if item["sentence"] >= len(sentences)]
    assert len(items) - len(extra) == len(sentences)  # every sentence fits one window
    assert all(len(item["input_ids"]) <= 24 for item in extra)
    label_ids = dict(enumerate(datamodule.labels))
    documents = list(dict.fromkeys(s.doc for s in sentences))
    for document, windows in groupby(extra, key=lambda item: item["sentence"]):
        words = {}
        for item in windows:
            for word, label in zip(item["word_index"], item["labels"], strict=True):
                if word >= 0:
                    words[word] = label_ids[label]
        doc = documents[document - len(sentences)]
        tags = [t for s in sentences if s.doc == doc for t in s.tags]
        # every word of the document is labelled, with its own tag
        assert [words[i] for i in range(len(words))] == tags
    assert len({item["sentence"] for item in extra}) == len(documents) > 1
    # evaluation splits are unchanged
    dev = datamodule.encoded("dev")
    assert max(item["sentence"] for item in dev) == len(datamodule.sentences("dev")) - 1
