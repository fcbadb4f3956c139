"""tunelab-continual: entity types learnt a step at a time, the report, and bad orders."""

import json
import shutil

import pytest
import torch
import yaml
from transformers import AutoConfig, AutoModelForTokenClassification

from tests.conftest import compose_train, tiny_train_overrides
from tunelab.config import build
from tunelab.data.alignment import IGNORE
from tunelab.errors import TunelabError
from tunelab.experiments.continual import check_order, continual
from tunelab.experiments.continual_steps import link_same_first_step
from tunelab.models.teacher import load_teacher
from tunelab.tasks.classification.distill import distill_loss as class_distill_loss
from tunelab.tasks.classification.module import SequenceClassificationModule
from tunelab.tasks.ner.distill import distill_loss
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
    # keep_checkpoints=both: finished steps keep last.ckpt, as an interrupted one has it (below)
    cfg = continual_config(
        tmp_path,
        tiny_bert,
        conll_dir,
        "continual.method=replay+distill",
        "continual.replay=5",
        "callbacks.keep_checkpoints=both",
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
    step2 = json.loads((out / "step2-ORG" / "run_record.json").read_text())
    assert str(out / "step1-LOC" / "model") in json.dumps(step2)  # taught by the last step
    assert (out / "continual.png").stat().st_size > 1000
    assert "| 2 (+ORG) |" in (out / "continual.md").read_text()
    # a step stopped before its metrics were written resumes from its last checkpoint
    (out / "step2-ORG" / "metrics.json").unlink()
    again = continual(cfg)
    assert again["micro_f1"][2] == pytest.approx(saved["micro_f1"][2])


def test_a_first_step_is_shared_by_methods_with_the_same_seed(tmp_path, tiny_bert, conll_dir):
    def run(method, *extra):
        out = tmp_path / "runs" / f"{method}-seed42"
        cfg = continual_config(
            tmp_path,
            tiny_bert,
            conll_dir,
            "continual.order=[PER,LOC]",
            f"continual.method={method}",
            f"continual.output_dir={out}",
            *extra,
        )
        return continual(cfg), out / "step0-PER"

    finetuned, first = run("finetune")
    replayed, linked = run("replay")
    assert linked.is_symlink() and linked.resolve() == first.resolve()
    assert replayed["micro_f1"][0] == finetuned["micro_f1"][0]
    # other settings are another run
    record = yaml.safe_load((first / ".hydra" / "overrides.yaml").read_text())
    for changed in (
        [*record, "optimizer.lr=1e-3"],
        [o.replace("seed:42", "seed:43") for o in record],
    ):
        fresh = tmp_path / "runs" / "distill-seed42" / "step0-PER"
        link_same_first_step(fresh, changed)
        assert not fresh.exists()
    link_same_first_step(fresh, [*record, "++model.distill_weight=0.5"])  # no teacher yet
    assert fresh.is_symlink()


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
    # a later step without replay: its share holds only its own type, yet reads the types seen
    step = ["data.types=[PER,LOC]", "data.step={order:[PER,LOC,ORG],index:1,replay:0,seed:3}"]
    later = build(continual_config(tmp_path, tiny_bert, conll_dir, *step).data)
    assert {t[2:] for s in later.sentences("train") for t in s.tags} - {""} == {"LOC"}
    assert later.labels == ["O", "B-LOC", "I-LOC"]
    with_replay = step_sentences(sentences, order, 2, replay=7, seed=3)
    assert len(with_replay) == len(shares[2]) + 7
    assert {tag[2:] for s in with_replay[len(shares[2]) :] for tag in s.tags} - {""} <= {
        "PER",
        "LOC",
    }


@pytest.mark.parametrize(
    "order, message",
    [
        (
            "[PER,FOO]",
            "continual step 1 \\(FOO\\): continual.order names FOO, not a label of the training",
        ),
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


def test_distillation_loss_is_gold_on_new_types_and_the_teacher_on_o():
    torch.manual_seed(0)
    student, teacher = torch.randn(4, 5), torch.randn(4, 3)  # labels O, B-A, I-A | B-B, I-B
    labels = torch.tensor([0, 3, IGNORE, 0])
    loss = distill_loss(student, teacher, labels, outside=0, temperature=2.0)
    hard = -torch.log_softmax(student[1], -1)[3]
    soft = [
        -(torch.softmax(teacher[i] / 2, -1) * torch.log_softmax(student[i] / 2, -1)[:3]).sum() * 4
        for i in (0, 3)
    ]
    assert loss == pytest.approx(((hard + soft[0] + soft[1]) / 3).item(), rel=1e-6)


def test_a_teacher_must_match_the_student(tmp_path, trained_run, tiny_bert):
    from transformers import BertTokenizerFast

    model = trained_run[0] / "model"
    with pytest.raises(TunelabError, match="must be the first of the model's"):
        load_teacher(str(model), str(model), ["O", "B-X", "I-X"], AutoModelForTokenClassification)
    other = tmp_path / "other-tokenizer"
    shutil.copytree(model, other)
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"])}
    BertTokenizerFast(vocab=vocab).save_pretrained(other)
    labels = [AutoConfig.from_pretrained(model).id2label[i] for i in range(7)]
    with pytest.raises(TunelabError, match="its tokenizer differs from the model's"):
        load_teacher(str(other), str(model), labels, AutoModelForTokenClassification)


def test_class_distillation_is_gold_plus_the_teacher_on_old_classes():
    torch.manual_seed(0)
    student, teacher = torch.randn(4, 3), torch.randn(4, 2)  # old classes 0, 1 | new class 2
    gold = torch.tensor([2, 2, 0, 2])
    loss = class_distill_loss(student, teacher, gold, multi_label=False, temperature=2.0)
    soft = torch.softmax(teacher / 2, -1) * torch.log_softmax(student[:, :2] / 2, -1)
    expected = torch.nn.functional.cross_entropy(student, gold) - soft.sum(-1).mean() * 4
    assert loss == pytest.approx(expected.item(), rel=1e-6)
    half = class_distill_loss(student, teacher, gold, False, 2.0, teacher_weight=0.5)
    expected = torch.nn.functional.cross_entropy(student, gold) - soft.sum(-1).mean() * 2
    assert half == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(TunelabError, match="model.distill_weight weighs single-label"):
        SequenceClassificationModule("unused", ["a", "b"], multi_label=True, distill_weight=0.5)
    multi = torch.tensor([[0, 0, 1], [1, 0, 1], [0, 0, 0], [0, 1, 0]])
    loss = class_distill_loss(student, teacher, multi, multi_label=True, temperature=2.0)
    target = multi.float()
    target[:, :2] = torch.maximum(target[:, :2], torch.sigmoid(teacher))  # gold 1 stays 1
    expected = torch.nn.functional.binary_cross_entropy_with_logits(student, target)
    assert loss == pytest.approx(expected.item(), rel=1e-6)


@pytest.fixture(scope="module")
def three_classes(tmp_path_factory, table_dir):
    """table_dir with the travel texts that name a far city labelled `far`."""
    folder = tmp_path_factory.mktemp("three-classes")
    far = ("tokyo", "lima", "lagos", "cairo")
    for name in ("train.csv", "dev.tsv", "test.jsonl"):
        lines = (table_dir / name).read_text().splitlines(keepends=True)
        lines = [
            line.replace("travel", "far") if any(c in line for c in far) else line for line in lines
        ]
        (folder / name).write_text("".join(lines))
    return folder


def test_classes_are_learnt_a_step_at_a_time(tmp_path, tiny_bert, three_classes):
    overrides = [
        *tiny_train_overrides(tiny_bert, three_classes, data="csv"),
        "trainer.max_epochs=1",
        "continual.order=[[travel,work],far]",
        "continual.method=finetune",  # no replay: the step's share alone holds no earlier class
        f"continual.output_dir={tmp_path / 'continual'}",
    ]
    cfg = compose_train(tmp_path, overrides, config_name="continual", return_hydra_config=True)
    result = continual(cfg)
    out = tmp_path / "continual"
    config = AutoConfig.from_pretrained(out / "step1-far" / "model")
    assert [config.id2label[i] for i in range(3)] == ["travel", "work", "far"]
    first = json.loads((out / "step0-travel+work" / "metrics.json").read_text())
    second = json.loads((out / "step1-far" / "metrics.json").read_text())
    assert "test/f1_far" not in first  # tested on the classes seen so far only
    assert result["micro_f1"] == [first["test/f1_micro"], second["test/f1_micro"]]
    assert result["matrix"][0] == [first["test/f1_travel"], first["test/f1_work"], None]
    assert set(result["forgetting"]) == {"travel", "work"}
    log = (out / "step1-far" / "train.log").read_text()
    assert "added from the data: far" in log
    distill = tmp_path / "distill"
    overrides += ["continual.method=replay+distill", f"continual.output_dir={distill}"]
    taught = continual(compose_train(tmp_path, overrides, "continual", return_hydra_config=True))
    assert taught["matrix"][0] == result["matrix"][0]  # the same first step, linked
    step1 = yaml.safe_load((distill / "step1-far" / ".hydra" / "config.yaml").read_text())
    assert step1["model"]["teacher"] == str(distill / "step0-travel+work" / "model")
    assert step1["data"]["step"]["replay"] > 0
    log = (distill / "step1-far" / "train.log").read_text()
    assert "the teacher of 2 labels: travel work" in log
    # joint's first step reads the same texts (data.classes alone): linked too
    joint = tmp_path / "joint"
    overrides += ["continual.method=joint", f"continual.output_dir={joint}"]
    joined = continual(compose_train(tmp_path, overrides, "continual", return_hydra_config=True))
    assert (joint / "step0-travel+work").is_symlink()
    assert joined["matrix"][0] == result["matrix"][0]
    with pytest.raises(TunelabError, match="step 0 \\(travel\\): a first step learns 2"):
        check_order(
            compose_train(tmp_path, [*overrides, "continual.order=[travel,work]"], "continual")
        )


@pytest.fixture(scope="module")
def second_domain(tmp_path_factory, table_dir):
    """table_dir's texts in other words, `travel` written `trip`: the same task, another domain."""
    folder = tmp_path_factory.mktemp("second-domain")
    for name in ("train.csv", "dev.tsv", "test.jsonl"):
        text = (table_dir / name).read_text().replace("travel", "trip")
        (folder / name).write_text(text.replace("to", "towards"))
    return folder


def domain_config(tmp_path, tiny_bert, first, second, *extra):
    overrides = [
        *tiny_train_overrides(tiny_bert, first, data="csv"),
        "trainer.max_epochs=1",
        f"continual.steps=[{first},{{data:{second},label_names:{{trip:travel}}}}]",
        f"continual.output_dir={tmp_path / 'continual'}",
        *extra,
    ]
    return compose_train(tmp_path, overrides, config_name="continual", return_hydra_config=True)


def test_datasets_are_learnt_a_step_at_a_time_and_tested_on_each(
    tmp_path, tiny_bert, table_dir, second_domain
):
    cfg = domain_config(
        tmp_path,
        tiny_bert,
        table_dir,
        second_domain,
        "continual.method=replay",
        "continual.replay=7",
    )
    result = continual(cfg)
    out = tmp_path / "continual"
    a, b = table_dir.name, second_domain.name
    config = AutoConfig.from_pretrained(out / f"step1-{b}" / "model")
    assert [config.id2label[i] for i in range(config.num_labels)] == ["travel", "work"]
    first = json.loads((out / f"step0-{a}" / "metrics.json").read_text())
    on_b = json.loads((out / f"step0-{a}" / f"test-{b}" / "metrics.json").read_text())
    assert result["matrix"][0] == [first["test/f1_micro"], on_b["test/f1_micro"]]
    assert result["micro_f1"][1] == pytest.approx(sum(result["matrix"][1]) / 2)
    assert result["micro_f1"][0] == first["test/f1_micro"]  # the seen datasets only
    assert set(result["forgetting"]) == {a}
    memory = (out / "memory" / "step1.jsonl").read_text().splitlines()
    assert len(memory) == 7 and {json.loads(r)["label"] for r in memory} <= {"travel", "work"}
    step1 = (out / f"step1-{b}" / ".hydra" / "overrides.yaml").read_text()
    assert f"step0-{a}/model" in step1 and "data.extra_train=" in step1
    assert "| 1 (+" in (out / "continual.md").read_text()
    assert continual(cfg)["matrix"] == result["matrix"]  # read back, not run again
    joint = domain_config(
        tmp_path,
        tiny_bert,
        table_dir,
        second_domain,
        "continual.method=joint",
        f"continual.output_dir={tmp_path / 'joint'}",
    )
    # another method with the same first step links it, not trained again; joint's is one too,
    # as it starts from the base model
    everything = continual(joint)
    linked = tmp_path / "joint" / f"step0-{a}"
    assert linked.is_symlink() and linked.resolve() == (out / f"step0-{a}").resolve()
    step1 = (tmp_path / "joint" / f"step1-{b}" / ".hydra" / "overrides.yaml").read_text()
    assert f"step0-{a}/model" not in step1 and "memory/step1.jsonl" in step1
    assert everything["matrix"][0] == result["matrix"][0]


def test_bad_steps_stop_with_one_line(tmp_path, tiny_bert, table_dir, second_domain):
    for extra, message in [
        (["continual.steps=[nowhere,sst2]"], r"step 0 \(nowhere\): neither a data preset"),
        (["continual.steps=[sst2]"], "lists one dataset"),
        (["continual.steps=[sst2,sst2]"], r"step 1 \(sst2\): sst2 is step 0 too"),
        (["continual.method=forget"], "with continual.steps, one of finetune, replay, distill"),
    ]:
        cfg = domain_config(tmp_path, tiny_bert, table_dir, second_domain, *extra)
        with pytest.raises(TunelabError, match=message):
            continual(cfg)
