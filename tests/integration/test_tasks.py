"""One package per task: the registry, a toy task through the ordinary commands, and one
inference path (what tunelab-predict labels is what tunelab-eval scored)."""

import csv
import json
import random
import re
from pathlib import Path

import pytest
from omegaconf import open_dict

from tests.conftest import compose_train, tiny_train_overrides
from tunelab import tasks
from tunelab.inference.eval import evaluate
from tunelab.inference.predict import predict
from tunelab.training.train import train

SRC = Path(__file__).resolve().parents[2] / "src" / "tunelab"
# A task's name, its module classes, or a type switch on modules or DataModules.
TASK_SPECIFIC = (
    r"TokenClassification|SequenceClassification|tasks\.(?:ner|classification)|"
    r"[\"'](?:ner|classification)[\"']|isinstance\(\w+, \w*(?:Module|Task)"
)


def eval_own(tmp_path, model_dir, *overrides):
    """tunelab-eval model_dir=... with nothing else: the model's own data and settings."""
    cfg = compose_train(
        tmp_path,
        [f"model_dir={model_dir}", "trainer.accelerator=cpu", *overrides],
        config_name="eval",
        return_hydra_config=True,
    )
    return evaluate(cfg)


def run_predict(tmp_path, model_dir, source, *overrides) -> Path:
    output = tmp_path / "predicted"
    cfg = compose_train(
        tmp_path,
        [f"model_dir={model_dir}", f"input={source}", f"output={output}", *overrides],
        config_name="predict",
    )
    predict(cfg)
    return output


def test_shared_code_names_no_task():
    """The entry points and shared machinery consult the registry; no module reads the
    DataModule behind the trainer."""
    shared = ["training/rundir.py", "inference/loading.py", "inference/predict.py"]
    shared += ["experiments/sweep.py", "inference/eval.py", "training/train.py"]
    for name in shared:
        source = (SRC / name).read_text()
        found = re.findall(TASK_SPECIFIC, source)
        assert not found, (name, found)
    for path in SRC.rglob("*.py"):
        assert "trainer.datamodule" not in path.read_text(), path


def test_registry_lists_the_built_in_tasks_and_refuses_unknown_ones():
    assert {"ner", "classification"} <= set(tasks.known())
    assert tasks.of_architecture("BertForTokenClassification").name == "ner"
    with pytest.raises(Exception, match="unknown task 'nope'"):
        tasks.get("nope")


def test_a_task_from_its_own_folder_trains_evaluates_and_predicts(tmp_path, tiny_bert):
    from tests.toy_task import NAME, label_of

    rng = random.Random(3)
    data = tmp_path / "toy"
    data.mkdir()
    words = ["john", "went", "to", "paris", "today", "with", "mary"]
    for split, count in [("train", 64), ("dev", 16), ("test", 16)]:
        lines = [" ".join(rng.choices(words, k=rng.randint(2, 9))) for _ in range(count)]
        (data / f"{split}.txt").write_text("\n".join(lines) + "\n")
    overrides = tiny_train_overrides(tiny_bert, data, data="csv")
    cfg = compose_train(tmp_path / "run", [*overrides, "trainer.max_epochs=2"])
    with open_dict(cfg):
        cfg.task, cfg.monitor = NAME, "val/acc"
        cfg.data = {
            "_target_": f"{NAME}.ToyDataModule.from_config",
            "tokenizer": str(tiny_bert),
            "dir": str(data),
        }
        cfg.model = {"_target_": f"{NAME}.ToyModule", "model_name_or_path": str(tiny_bert)}
    metrics = train(cfg)
    model_dir = tmp_path / "run" / "model"
    assert json.loads((model_dir / "tunelab.json").read_text())["task"] == NAME

    evaluated = eval_own(tmp_path / "eval", model_dir)
    assert evaluated["test/acc"] == pytest.approx(metrics["test/acc"])
    scored = (tmp_path / "eval" / "predictions" / "test.tsv").read_text().splitlines()
    output = run_predict(tmp_path / "predict", model_dir, data / "test.txt")
    assert output.read_text().splitlines() == [line.split("\t")[1] for line in scored]
    right = sum(label_of(t) == p for t, p in (line.split("\t") for line in scored))
    assert right / len(scored) == pytest.approx(evaluated["test/acc"])


def test_ner_predict_gives_the_tags_eval_scored(tmp_path, trained_run):
    run_dir, metrics, conll_dir = trained_run
    evaluated = eval_own(tmp_path / "eval", run_dir / "model")
    assert evaluated["test/f1"] == pytest.approx(metrics["test/f1"], abs=1e-12)
    scored = (tmp_path / "eval" / "predictions" / "test.conll").read_text().split("\n")
    output = run_predict(
        tmp_path / "predict", run_dir / "model", conll_dir / "test.txt", "format=conll"
    )
    predicted = output.read_text().split("\n")
    assert [line.split(" ")[-1] for line in predicted if line] == [
        line.split(" ")[-1] for line in scored if line
    ]
    assert predicted.count("") == scored.count("")


def write_pairs(folder: Path) -> Path:
    """Question/answer pairs: `yes` when the answer names the person asked about."""
    rng = random.Random(5)
    people, places = ["john", "mary", "anna", "omar"], ["paris", "lima", "oslo"]
    folder.mkdir()
    for split, count in [("train", 96), ("dev", 24), ("test", 24)]:
        with (folder / f"{split}.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["question", "answer", "label"])
            for _ in range(count):
                asked, named = rng.choice(people), rng.choice(people)
                writer.writerow(
                    [
                        f"where is {asked} ?",
                        f"{named} went to {rng.choice(places)} .",
                        "yes" if asked == named else "no",
                    ]
                )
    return folder


@pytest.mark.parametrize("kind", ["head_tail", "pairs"])
def test_classification_predict_gives_the_labels_eval_scored(tmp_path, tiny_bert, table_dir, kind):
    if kind == "head_tail":  # texts of 6+ words cut to 6 sub-tokens: both ends kept
        data, extra = table_dir, ["data.long_text=head_tail", "data.max_length=6"]
        source = tmp_path / "texts.txt"
        rows = [json.loads(line) for line in (table_dir / "test.jsonl").read_text().splitlines()]
        source.write_text("".join(row["text"] + "\n" for row in rows))
    else:
        data = write_pairs(tmp_path / "pairs")
        extra = ["data.text_column=question", "data.text_pair_column=answer"]
        source = data / "test.csv"
    overrides = tiny_train_overrides(tiny_bert, data, data="csv")
    metrics = train(compose_train(tmp_path / "run", [*overrides, *extra, "trainer.max_epochs=2"]))
    model_dir = tmp_path / "run" / "model"
    evaluated = eval_own(tmp_path / "eval", model_dir)
    assert evaluated["test/acc"] == pytest.approx(metrics["test/acc"])
    with (tmp_path / "eval" / "predictions" / "test.csv").open(newline="") as handle:
        scored = [(row["pred"], float(row["prob"])) for row in csv.DictReader(handle)]
    output = run_predict(tmp_path / "predict", model_dir, source)
    records = [json.loads(line) for line in output.read_text().splitlines()]
    if kind == "pairs":  # a table: its columns kept, the prediction's added (pred, prob_<label>)
        assert {"question", "answer", "label"} <= set(records[0])
        records = [
            {
                "label": r["pred"],
                "probabilities": {k[5:]: v for k, v in r.items() if k.startswith("prob_")},
            }
            for r in records
        ]
    assert [record["label"] for record in records] == [label for label, _ in scored]
    for record, (label, prob) in zip(records, scored, strict=True):
        assert record["probabilities"][label] == pytest.approx(prob, abs=2e-6)
    if kind == "head_tail":  # the same model read by truncation labels some texts otherwise
        truncated = run_predict(tmp_path / "truncate", model_dir, source, "long_text=truncate")
        other = [json.loads(line)["probabilities"] for line in truncated.read_text().splitlines()]
        assert other != [record["probabilities"] for record in records]


def test_a_setting_given_to_eval_wins_and_is_logged(tmp_path, trained_run, caplog):
    run_dir, _, _ = trained_run
    recorded = json.loads((run_dir / "model" / "tunelab.json").read_text())["data"]
    assert recorded["max_length"] == 64  # windows sized to the short training sentences
    with caplog.at_level("INFO", logger="tunelab"):
        eval_own(tmp_path, run_dir / "model", "data.max_length=16", "data.stride=4")
    assert "data.max_length=16 (the model reads with 64)" in caplog.text
    lines = (tmp_path / "predictions" / "test.conll").read_text().split("\n")
    assert len([line for line in lines if line]) == sum(
        len(s.split("\n"))
        for s in (Path(recorded["dir"]) / "test.txt").read_text().split("\n\n")
        if s.strip()
    )


@pytest.mark.parametrize("surface", ["eval", "predict", "serve", "api"])
def test_every_surface_reads_as_trained_and_logs_what_it_changes(
    tmp_path, trained_run, caplog, surface
):
    """tunelab eval, predict, serve and the Python API read a model's text with the settings
    recorded at training (tunelab.json), and a setting given over them wins and is logged
    (issue 46: one owner of how text is read, `tunelab.data.reading`)."""
    import tunelab
    from tunelab.serving.serve import build_app

    run_dir, _, _ = trained_run
    model_dir = run_dir / "model"
    recorded = json.loads((model_dir / "tunelab.json").read_text())["data"]
    source = tmp_path / "in.txt"
    source.write_text("john went to paris .\n")

    def settings_with(*given: str) -> dict:
        if surface == "eval":
            from tunelab.inference.eval import data_config

            cfg = compose_train(
                tmp_path, [f"model_dir={model_dir}", *given], "eval", return_hydra_config=True
            )
            return dict(data_config(cfg, recorded))
        if surface == "predict":
            cfg = compose_train(
                tmp_path, [f"model_dir={model_dir}", f"input={source}", *given], "predict"
            )
            return tunelab.inference.predictor.Predictor.from_config(cfg, None).settings
        if surface == "serve":
            cfg = compose_train(tmp_path, [f"model_dir={model_dir}", *given], "serve")
            return build_app(cfg)[1].settings
        reading = {key: int(value) for key, value in (a.split("=") for a in given)}
        return tunelab.load(model_dir, reading=reading).settings

    own = settings_with()
    assert own["max_length"] == recorded["max_length"] and own["stride"] == recorded["stride"]
    assert own["context"] == recorded["context"]
    prefix = "data." if surface == "eval" else ""
    with caplog.at_level("INFO", logger="tunelab"):
        changed = settings_with(f"{prefix}max_length=16", f"{prefix}stride=4")
    assert int(changed["max_length"]) == 16 and int(changed["stride"]) == 4
    expected = f"{prefix}max_length=16 (the model reads with {recorded['max_length']})"
    assert expected in caplog.text
