"""tunelab-continual: entity types learnt a step at a time, the report, and bad orders."""

import json

import pytest
from transformers import AutoConfig

from tests.conftest import compose_train, tiny_train_overrides
from tunelab.config import build
from tunelab.continual import check_order, continual
from tunelab.errors import TunelabError
from tunelab.tasks.ner.incremental import sentence_steps, step_sentences


def continual_config(tmp_path, tiny_bert, conll_dir, *extra):
    overrides = [
        *tiny_train_overrides(tiny_bert, conll_dir),
        "trainer.max_epochs=1",
        "trainer.precision=32-true",
        "continual.order=[PER,LOC,ORG]",
        f"continual.output_dir={tmp_path / 'continual'}",
        *extra,
    ]
    return compose_train(tmp_path, overrides, config_name="continual", return_hydra_config=True)


def test_each_step_learns_its_type_and_the_report_adds_up(tmp_path, tiny_bert, conll_dir):
    cfg = continual_config(
        tmp_path, tiny_bert, conll_dir, "continual.method=replay", "continual.replay=5"
    )
    result = continual(cfg)
    out = tmp_path / "continual"
    config = AutoConfig.from_pretrained(out / "step2-ORG" / "model")
    grown = [config.id2label[i] for i in range(config.num_labels)]
    assert grown == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    saved = json.loads((out / "continual.json").read_text())
    assert saved["matrix"][0][1:] == [None, None] and saved["matrix"][1][2] is None
    assert all(value is not None for value in saved["matrix"][2])
    steps = [
        json.loads((out / d / "metrics.json").read_text())
        for d in ("step0-PER", "step1-LOC", "step2-ORG")
    ]
    assert saved["micro_f1"] == [m["test/f1"] for m in steps]
    assert result["average_incremental_f1"] == pytest.approx(sum(saved["micro_f1"]) / 3)
    per_final = steps[2]["test/f1_PER"]
    assert saved["forgetting"]["PER"] == pytest.approx(
        max(steps[0]["test/f1_PER"], steps[1]["test/f1_PER"]) - per_final
    )
    assert "test/f1_LOC" not in steps[0]  # tested on the types seen so far only
    assert (out / "continual.png").stat().st_size > 1000
    assert "| 2 (+ORG) |" in (out / "continual.md").read_text()


def test_each_training_sentence_belongs_to_one_step_labelled_with_its_type(
    tmp_path, tiny_bert, conll_dir
):
    cfg = continual_config(tmp_path, tiny_bert, conll_dir)
    sentences = build(cfg.data).sentences("train")
    order = ["PER", "LOC", "ORG"]
    steps = sentence_steps(sentences, order, seed=3)
    assert steps == sentence_steps(sentences, order, seed=3)  # fixed by the seed
    shares = [step_sentences(sentences, order, i, replay=0, seed=3) for i in range(3)]
    assert sum(len(share) for share in shares) == len(sentences)
    for i, share in enumerate(shares):
        kinds = {tag[2:] for s in share for tag in s.tags if tag != "O"}
        assert kinds == {order[i]}
    with_replay = step_sentences(sentences, order, 2, replay=7, seed=3)
    assert len(with_replay) == len(shares[2]) + 7
    assert {tag[2:] for s in with_replay[len(shares[2]) :] for tag in s.tags} - {""} <= {
        "PER",
        "LOC",
    }


@pytest.mark.parametrize(
    "order, message",
    [
        ("[PER,FOO]", "continual step 1 \\(FOO\\): continual.order names FOO, not an entity type"),
        ("[PER,LOC,PER]", "continual step 2 \\(PER\\): PER is learnt at step 0 already"),
    ],
)
def test_a_bad_order_stops_with_one_line_naming_the_step(
    tmp_path, tiny_bert, conll_dir, order, message
):
    cfg = continual_config(tmp_path, tiny_bert, conll_dir, f"continual.order={order}")
    with pytest.raises(TunelabError, match=message):
        check_order(cfg)


def test_a_start_model_that_knows_a_type_stops(tmp_path, trained_run, conll_dir, tiny_bert):
    model = trained_run[0] / "model"
    cfg = continual_config(tmp_path, tiny_bert, conll_dir, f"model.model_name_or_path={model}")
    with pytest.raises(TunelabError, match="continual step 0 \\(PER\\): .* already labels PER"):
        check_order(cfg)
