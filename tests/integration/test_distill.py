"""tunelab distill: a student cut from a fine-tuned teacher learns from it (tiny models)."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoConfig, BertModel

from tests.conftest import compose_train, tiny_train_overrides
from tunelab.config import build
from tunelab.data.alignment import IGNORE, UNLABELLED
from tunelab.errors import TunelabError
from tunelab.experiments.distill import train_overrides
from tunelab.models import teacher as teacher_module
from tunelab.models.student import keep_layers, kept_layers
from tunelab.training.train import train


def test_the_layer_that_ends_each_group_is_kept():
    assert kept_layers(6, 3) == [1, 3, 5]
    assert kept_layers(12, 4) == [2, 5, 8, 11]
    assert kept_layers(6, 6) == list(range(6)) and kept_layers(6, 1) == [5]


def test_cutting_a_model_keeps_those_layers_weights(tiny_bert):
    model = BertModel.from_pretrained(tiny_bert)  # two layers
    expected = model.encoder.layer[1].output.dense.weight.clone()
    keep_layers(model, 1)
    assert len(model.encoder.layer) == 1 and model.config.num_hidden_layers == 1
    assert torch.equal(model.encoder.layer[0].output.dense.weight, expected)
    model(input_ids=torch.tensor([[1, 2, 3]]))  # still runs
    with pytest.raises(TunelabError, match="from 1 to 1"):
        keep_layers(model, 2)


UNLABELLED_TEXTS = "anna flew to rome\n\nthe bank in paris hired john today\n"


@pytest.mark.parametrize("run, data", [("trained_run", "conll"), ("classified_run", "csv")])
def test_a_student_learns_from_its_teacher_and_exports_like_any_model(
    run, data, request, tmp_path, tiny_bert, conll_dir, table_dir, caplog, monkeypatch
):
    """... also from texts without labels (data.unlabelled), the teacher's alone, and from the
    teacher's hidden states (model.distill_hidden)."""
    teacher = request.getfixturevalue(run)[0] / "model"
    folder = conll_dir if data == "conll" else table_dir
    given = [
        o
        for o in tiny_train_overrides(tiny_bert, folder, data=data)
        if not o.startswith("model.model_name_or_path")
    ]
    texts = tmp_path / "unlabelled.txt"
    texts.write_text(UNLABELLED_TEXTS)
    given += [f"data.unlabelled={texts}", "trainer.max_epochs=1", "model.distill_hidden=0.5"]
    overrides = train_overrides([f"teacher={teacher}", "layers=1", *given])
    assert ("model.distill_on=all" in overrides) == (data == "conll")
    task = "ner" if data == "conll" else "classification"
    matched = []

    def hidden_state_loss(student, teacher, mask):
        matched.append(
            (len(student), len(teacher), teacher_module.hidden_state_loss(student, teacher, mask))
        )
        return matched[-1][-1]

    monkeypatch.setattr(f"tunelab.tasks.{task}.module.hidden_state_loss", hidden_state_loss)
    with caplog.at_level("INFO"):
        metrics = train(compose_train(tmp_path, overrides))
    assert "data.unlabelled: 2 texts without labels, taught by the teacher" in caplog.text
    # every step also matched the student's one layer to the teacher's last (of two)
    assert matched and all(s == 2 and t == 3 and 0 <= loss <= 2 for s, t, loss in matched)
    assert any(key.startswith("test/") for key in metrics)
    student = tmp_path / "model"
    assert AutoConfig.from_pretrained(student).num_hidden_layers == 1
    assert json.loads((student / "tunelab.json").read_text())["distilled_from"] == str(teacher)


def test_texts_without_labels_need_a_teacher(tmp_path, tiny_overrides):
    texts = tmp_path / "unlabelled.txt"
    texts.write_text(UNLABELLED_TEXTS)
    cfg = compose_train(tmp_path, [*tiny_overrides, f"data.unlabelled={texts}"])
    with pytest.raises(TunelabError, match="learnt from a teacher alone; use tunelab distill"):
        train(cfg)
    plain = build(compose_train(tmp_path, tiny_overrides).data).encoded("train")
    items = list(build(cfg.data).encoded("train"))
    added = [item for item in items if UNLABELLED in item["labels"]]
    assert len(items) == len(plain) + 2 and len(added) == 2
    assert {label for item in added for label in item["labels"]} == {IGNORE, UNLABELLED}


def test_distill_says_what_it_needs_in_one_line(trained_run, tmp_path):
    with pytest.raises(TunelabError, match="name the teacher"):
        train_overrides(["data=conll2003"])
    with pytest.raises(TunelabError, match="name the teacher's data"):
        train_overrides([f"teacher={trained_run[0] / 'model'}"])
    with pytest.raises(TunelabError, match="no tunelab.json"):
        train_overrides([f"teacher={tmp_path}", "data=conll2003"])


def test_the_loss_is_the_gold_one_plus_the_teachers_softened_one():
    """Hand computation: cross-entropy with the gold label, plus the weight times T^2 times the
    cross-entropy of the student's softened distribution against the teacher's."""
    from tunelab.models.teacher import gold_and_teacher_loss

    student = torch.tensor([[2.0, 0.0, -1.0]])
    teacher = torch.tensor([[0.0, 1.0, 0.0]])
    gold = torch.tensor([0])
    t, w = 2.0, 0.5
    soft = torch.softmax(teacher / t, -1)
    expected = (
        -torch.log_softmax(student, -1)[0, 0]
        - w * t**2 * (soft * torch.log_softmax(student / t, -1)).sum()
    )
    found = gold_and_teacher_loss(student, teacher, gold, t, teacher_weight=w)
    assert found.item() == pytest.approx(expected.item(), rel=1e-6)


def test_each_student_layer_matches_the_teacher_layer_it_was_cut_from():
    """Hand computation: a 2-layer student of a 4-layer teacher keeps teacher layers 1 and 3,
    whose outputs are hidden states 2 and 4; the loss is the mean of 1 - cosine over the pairs
    and the real tokens (the padding position, all wrong, does not count)."""
    from tunelab.models.teacher import hidden_state_loss

    def states(*vectors):  # one row of two positions per hidden state
        return tuple(torch.tensor([v], dtype=torch.float32) for v in vectors)

    x, y, wrong = [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]
    mask = torch.tensor([[1, 0]])
    student = states([x, x], [x, wrong], [[1.0, 1.0], wrong])
    teacher = states([y, y], [y, y], [x, y], [y, y], [x, y])
    # layer 1: cos(x, x) = 1 -> 0; layer 2: cos((1, 1), x) = 1 / sqrt(2)
    expected = (0 + (1 - 2**-0.5)) / 2
    assert hidden_state_loss(student, teacher, mask).item() == pytest.approx(expected, rel=1e-6)


def test_hidden_states_teach_only_a_student_as_wide(trained_run, tmp_path):
    from transformers import AutoModelForTokenClassification, BertConfig

    from tunelab.models.teacher import load_teacher

    model = trained_run[0] / "model"
    labels = [AutoConfig.from_pretrained(model).id2label[i] for i in range(7)]
    narrow = tmp_path / "narrow"
    narrow.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        if (model / name).exists():
            (narrow / name).write_bytes((model / name).read_bytes())
    BertConfig(hidden_size=16, num_attention_heads=2).save_pretrained(narrow)
    auto = AutoModelForTokenClassification
    load_teacher(str(model), str(narrow), labels, auto)  # outputs alone: any width
    with pytest.raises(TunelabError, match=r"\(32 wide\) cannot teach the model's \(16\)"):
        load_teacher(str(model), str(narrow), labels, auto, hidden=True)


def test_the_python_api_distils_as_the_command_does(trained_run, tmp_path, tiny_bert, conll_dir):
    import tunelab

    given = [
        o
        for o in tiny_train_overrides(tiny_bert, conll_dir)
        if not o.startswith("model.model_name_or_path")
    ]
    run = tunelab.distill(
        trained_run[0] / "model", [*given, "trainer.max_epochs=1"], layers=1, output_dir=tmp_path
    )
    assert "test/f1" in run.metrics
    assert AutoConfig.from_pretrained(run.model_dir).num_hidden_layers == 1


def test_a_teacher_with_a_crf_teaches_through_its_marginals(
    trained_run, tmp_path, tiny_bert, conll_dir, caplog, monkeypatch
):
    import shutil

    from safetensors.torch import save_file

    from tunelab.tasks.ner.module import TokenClassificationModule

    teacher = tmp_path / "crf-teacher"
    shutil.copytree(trained_run[0] / "model", teacher)
    labels = AutoConfig.from_pretrained(teacher).num_labels
    torch.manual_seed(0)
    crf = {n: torch.randn(*s) for n, s in [("transitions", (labels, labels)), ("start", (labels,))]}
    save_file({**crf, "end": torch.randn(labels)}, str(teacher / "crf.safetensors"))
    given = [
        o
        for o in tiny_train_overrides(tiny_bert, conll_dir)
        if not o.startswith("model.model_name_or_path")
    ]
    overrides = train_overrides([f"teacher={teacher}", "layers=1", *given, "trainer.max_epochs=1"])
    calls = []
    marginal_loss = TokenClassificationModule.crf_teacher_loss

    def counted(self, *args):
        calls.append(marginal_loss(self, *args))
        return calls[-1]

    monkeypatch.setattr(TokenClassificationModule, "crf_teacher_loss", counted)
    with caplog.at_level("INFO"):
        metrics = train(compose_train(tmp_path / "run", overrides))
    assert "test/f1" in metrics
    assert len(calls) == 8 and all(torch.isfinite(loss) for loss in calls)  # every step
    assert "the teacher's CRF teaches through its marginals over each word" in caplog.text
    # continual learning's distillation (where the data says O) takes no CRF teacher
    names = [AutoConfig.from_pretrained(teacher).id2label[i] for i in range(labels)]
    with pytest.raises(TunelabError, match="has a CRF: its marginals teach a student with"):
        TokenClassificationModule(str(teacher), names, teacher=str(teacher))
