"""method=prompt end to end with the tiny model; templates and label words."""

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

from tests.conftest import compose_train, tiny_train_overrides
from tests.recompute import assert_classification_run_recomputed, predictions_agree_with_predict
from tunelab.errors import TunelabError
from tunelab.tasks.classification.methods.prompt.module import PromptModule
from tunelab.tasks.classification.methods.prompt.template import Template, label_word_ids
from tunelab.training.train import train

VERBALIZER = "model.verbalizer={travel: paris, work: [acme, hooli]}"


@pytest.fixture(scope="module")
def prompt_run(tmp_path_factory, tiny_bert, table_dir):
    run_dir = tmp_path_factory.mktemp("prompt")
    overrides = tiny_train_overrides(tiny_bert, table_dir, data="csv")
    overrides += ["method=prompt", f"model.model_name_or_path={tiny_bert}", VERBALIZER]
    overrides += ["model.template='{text} went to [MASK] .'", "trainer.max_epochs=2"]
    overrides += ["trainer.precision=32-true", "optimizer.lr=5e-3"]
    return run_dir, train(compose_train(run_dir, overrides))


def test_scores_recomputed_and_export_predicts_alike(prompt_run, tmp_path):
    run_dir, _ = prompt_run
    assert_classification_run_recomputed(run_dir, ["travel", "work"])
    predictions_agree_with_predict(run_dir, tmp_path)


def test_export_fills_masks(prompt_run):
    run_dir, _ = prompt_run
    fill = pipeline("fill-mask", model=str(run_dir / "model"))
    assert len(fill("john went to [MASK] .")) == 5


@pytest.mark.parametrize("method", ["prompt_tuning", "p_tuning"])
def test_soft_prompt_trains_its_vectors_alone_and_exports_them(
    method, tiny_bert, table_dir, tmp_path
):
    run_dir = tmp_path / method
    overrides = tiny_train_overrides(tiny_bert, table_dir, data="csv")
    overrides += ["method=prompt", f"model.model_name_or_path={tiny_bert}", VERBALIZER]
    overrides += [f"peft={method}", "model.peft.num_virtual_tokens=4", "trainer.max_epochs=2"]
    overrides += ["trainer.precision=32-true", "model.template='{text} went to [MASK] .'"]
    train(compose_train(run_dir, overrides))
    exported, start = (
        AutoModelForMaskedLM.from_pretrained(p) for p in (run_dir / "model", tiny_bert)
    )
    start_weights = start.state_dict()
    encoder = [name for name in start_weights if name.startswith("bert.")]
    for name in encoder:  # the encoder stayed frozen (the tiny model has no head to compare)
        assert torch.equal(exported.state_dict()[name], start_weights[name]), name
    words = {"travel": "paris", "work": "acme"}
    module = PromptModule(
        str(tiny_bert),
        ["travel", "work"],
        verbalizer=words,
        peft={"method": method, "num_virtual_tokens": 4},
    )
    trained = [name for name, param in module.named_parameters() if param.requires_grad]
    assert trained and all(name.startswith("soft_prompt.") for name in trained)
    vectors = load_file(str(run_dir / "model" / "soft_prompt.safetensors"))["vectors"]
    assert vectors.shape == (4, exported.config.hidden_size)
    assert_classification_run_recomputed(run_dir, ["travel", "work"])
    predictions_agree_with_predict(run_dir, tmp_path)  # the export reads with its vectors


def test_texts_are_spliced_into_the_template(tiny_bert):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    template = Template.parse("the {text} went to [MASK] .", tokenizer)
    rows = tokenizer(["john", "mary met anna"], padding=True, return_tensors="pt")
    ids, mask, positions = template.splice(rows["input_ids"], rows["attention_mask"], 512, 0)
    assert tokenizer.decode(ids[0][mask[0].bool()]) == "[CLS] the john went to [MASK]. [SEP]"
    assert tokenizer.decode(ids[1]) == "[CLS] the mary met anna went to [MASK]. [SEP]"
    assert ids[0, positions[0]] == tokenizer.mask_token_id == ids[1, positions[1]]
    assert mask.sum(-1).tolist() == [8, 10]
    short, _, spot = template.splice(rows["input_ids"], rows["attention_mask"], 8, 0)
    assert tokenizer.decode(short[1]) == "[CLS] the mary went to [MASK]. [SEP]"  # text cut
    assert short[1, spot[1]] == tokenizer.mask_token_id


def test_bad_templates_and_words_stop_with_one_line(tiny_bert):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    with pytest.raises(TunelabError, match="once"):
        Template.parse("{text} no mask", tokenizer)
    with pytest.raises(TunelabError, match="peft=lora is not offered for method=prompt"):
        PromptModule(
            str(tiny_bert),
            ["a", "b"],
            verbalizer={"a": "paris", "b": "lima"},
            peft={"method": "lora"},
        )
    with pytest.raises(TunelabError, match="no word for 'work'"):
        label_word_ids({"travel": "paris"}, ["travel", "work"], tokenizer)
    with pytest.raises(TunelabError, match="'parisa' .* 2 sub-tokens"):
        label_word_ids({"travel": "parisa"}, ["travel"], tokenizer)
    with pytest.raises(TunelabError, match="'qqq' .* not in the tokenizer's vocabulary"):
        label_word_ids({"travel": "qqq"}, ["travel"], tokenizer)
    assert label_word_ids({"a": ["paris", "lima"]}, ["a"], tokenizer) == [
        tokenizer.convert_tokens_to_ids(["paris", "lima"])
    ]


def test_the_checkpoint_keeps_template_and_verbalizer(prompt_run):
    from tunelab.inference.loading import load_module

    run_dir, _ = prompt_run
    module, _, task = load_module(ckpt_path=str(run_dir / "checkpoints" / "best.ckpt"))
    assert (task.name, module.method) == ("classification", "prompt")
    assert module.hparams.template == "{text} went to [MASK] ."
    assert dict(module.hparams.verbalizer) == {"travel": "paris", "work": ["acme", "hooli"]}
