"""Parameter-efficient fine-tuning with the tiny model: every method trains, tests and exports."""

import json

import pytest
import torch
from peft import AutoPeftModelForTokenClassification
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForTokenClassification, pipeline

from tests.conftest import compose_train, eval_config, tiny_train_overrides
from tests.recompute import NER_COUNTS, assert_test_scores_recomputed, ner_scores_from_file
from tunelab.errors import TunelabError
from tunelab.inference.eval import evaluate
from tunelab.models.peft_methods import check_prefix_support
from tunelab.training.train import train

METHODS = ["lora", "adalora", "ia3", "prefix", "prompt_tuning", "p_tuning", "head_only"]


@pytest.fixture(scope="module")
def peft_runs(tmp_path_factory, tiny_bert, conll_dir):
    runs = {}
    for method in METHODS:
        run_dir = tmp_path_factory.mktemp(method)
        overrides = tiny_train_overrides(tiny_bert, conll_dir) + [
            f"peft={method}",
            "trainer.max_epochs=2",
            "~callbacks.early_stopping",
        ]
        runs[method] = (run_dir, train(compose_train(run_dir, overrides)))
    return runs


@pytest.mark.parametrize("method", METHODS)
def test_method_trains_a_small_share_and_reports_it(peft_runs, method):
    run_dir, metrics = peft_runs[method]
    trainable, total = metrics["model/trainable_params"], metrics["model/total_params"]
    assert 0 < trainable < total
    recomputed = ner_scores_from_file(run_dir / "predictions" / "test.conll")
    assert_test_scores_recomputed(metrics, recomputed, NER_COUNTS)


@pytest.mark.parametrize("method", ["lora", "adalora", "ia3"])
def test_merged_export_is_a_plain_model_that_reproduces_test_scores(
    tmp_path, peft_runs, conll_dir, method
):
    run_dir, metrics = peft_runs[method]
    config = json.loads((run_dir / "model" / "config.json").read_text())
    assert config["architectures"] == ["BertForTokenClassification"]
    assert not any("lora" in k for k in load_file(run_dir / "model" / "model.safetensors"))
    assert isinstance(pipeline("token-classification", model=str(run_dir / "model"))("john"), list)
    scores = evaluate(eval_config(tmp_path, conll_dir, f"model_dir={run_dir / 'model'}"))
    assert scores["test/f1"] == pytest.approx(metrics["test/f1"], abs=1e-9)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "head_only"])
def test_adapter_keeps_the_trained_head(peft_runs, method):
    run_dir, _ = peft_runs[method]
    folder = str(run_dir / "adapter")
    config = AutoConfig.from_pretrained(folder)
    adapter = AutoPeftModelForTokenClassification.from_pretrained(folder, id2label=config.id2label)
    assert config.id2label[1].startswith("B-")
    head = adapter.get_base_model().classifier
    trained = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    key = next(k for k in trained if k.endswith("classifier.modules_to_save.default.weight"))
    assert torch.equal(head.modules_to_save["default"].weight, trained[key])


def test_adalora_ranks_change(peft_runs):
    run_dir, _ = peft_runs["adalora"]
    config = json.loads((run_dir / "adapter" / "adapter_config.json").read_text())
    ranks = {name: sum(mask) for name, mask in config["rank_pattern"].items()}
    # AdaLoRA keeps a total budget of target_r per module, shared out by importance: one module
    # may keep all init_r while others drop to 0, so only the total is guaranteed.
    assert ranks and sum(ranks.values()) <= config["target_r"] * len(ranks)
    assert sum(ranks.values()) < config["init_r"] * len(ranks)


def test_head_only_leaves_the_encoder_as_it_was(peft_runs, tiny_bert):
    run_dir, _ = peft_runs["head_only"]
    trained = AutoModelForTokenClassification.from_pretrained(run_dir / "model")
    base = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=7)
    for (name, a), (_, b) in zip(
        trained.bert.named_parameters(), base.bert.named_parameters(), strict=True
    ):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("method", ["prefix", "prompt_tuning", "p_tuning"])
def test_unmergeable_adapter_evaluates_from_its_checkpoint(tmp_path, peft_runs, conll_dir, method):
    run_dir, metrics = peft_runs[method]
    checkpoint = run_dir / "checkpoints" / "best.ckpt"
    scores = evaluate(eval_config(tmp_path, conll_dir, f"ckpt_path={checkpoint}"))
    assert scores["test/f1"] == pytest.approx(metrics["test/f1"], abs=1e-9)


def test_soft_prompt_on_classification_keeps_the_encoder(tmp_path, tiny_bert, table_dir):
    overrides = tiny_train_overrides(tiny_bert, table_dir, data="csv") + [
        "peft=prompt_tuning",
        "model.peft.num_virtual_tokens=4",
        "trainer.max_epochs=1",
    ]
    metrics = train(compose_train(tmp_path, overrides))
    prompt_and_head = 4 * 32 + (32 * 2 + 2)
    assert metrics["model/trainable_params"] <= prompt_and_head + 32 * 32 + 32  # and pooler
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == "PROMPT_TUNING" and config["num_virtual_tokens"] == 4


def test_soft_prompt_counts_against_the_model_positions(tmp_path, tiny_bert, conll_dir):
    overrides = tiny_train_overrides(tiny_bert, conll_dir) + ["peft=p_tuning"]
    cfg = compose_train(tmp_path, overrides)
    positions = AutoConfig.from_pretrained(tiny_bert).max_position_embeddings
    cfg.data.max_length = positions
    with pytest.raises(TunelabError, match="20 of them for the soft prompt; use at most"):
        train(cfg)


def test_prefix_check_names_the_model_that_cannot_take_a_prefix():
    class NoPrefix(torch.nn.Module):
        base_model = type("Base", (), {"config": type("C", (), {"model_type": "oldbert"})})()

        def forward(self, **inputs):
            raise TypeError("forward() got an unexpected keyword argument 'past_key_values'")

    with pytest.raises(TunelabError, match="prefix tuning does not work with this model .oldbert."):
        check_prefix_support(NoPrefix())


def test_unknown_method_is_a_clear_error(tmp_path, tiny_bert, conll_dir):
    overrides = tiny_train_overrides(tiny_bert, conll_dir) + ["debug=fdr", "model.peft.method=x"]
    with pytest.raises(TunelabError, match="peft.method='x'; choose one of none, lora"):
        train(compose_train(tmp_path, overrides))


def test_lora_on_classification(tmp_path, tiny_bert, table_dir):
    overrides = tiny_train_overrides(tiny_bert, table_dir, data="csv") + [
        "peft=lora",
        "trainer.max_epochs=1",
    ]
    metrics = train(compose_train(tmp_path, overrides))
    assert metrics["model/trainable_params"] < metrics["model/total_params"] / 2
    classifier = pipeline("text-classification", model=str(tmp_path / "model"))
    assert classifier("john went to paris")[0]["label"] in {"travel", "work"}
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
