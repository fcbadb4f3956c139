"""The bad-input suite: each case ends in one clear line (a TunelabError naming the key, or the
file and line) or in correct output; nothing a file holds can run code."""

import json
import pickle
import subprocess
import sys

import pytest
import torch

from tests.conftest import compose_train, eval_config, tiny_train_overrides, write_conll
from tunelab.errors import TunelabError
from tunelab.inference.eval import evaluate
from tunelab.inference.predict import predict
from tunelab.training.train import train

GOOD = [[("john", "B-PER"), ("went", "O"), ("to", "O"), ("paris", "B-LOC")]]


def expect_error(call, *fragments):
    """`call()` stops with a one-line TunelabError holding every fragment."""
    with pytest.raises(TunelabError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- values on the command line: checked before anything loads ------------------------
@pytest.mark.parametrize(
    "override, expected",
    [
        ("optimizer.lr=abc", "optimizer.lr='abc' is not allowed: use a number > 0"),
        ("optimizer.lr=-1", "optimizer.lr=-1 is not allowed"),
        ("optimizer.lr=0", "optimizer.lr=0 is not allowed"),
        ("data.batch_size=-1", "data.batch_size=-1 is not allowed: use an integer >= 1"),
        ("data.batch_size=0", "data.batch_size=0 is not allowed"),
        ("data.batch_size=2.5", "data.batch_size=2.5 is not allowed"),
        ("trainer.max_epochs=abc", "trainer.max_epochs='abc' is not allowed"),
        ("trainer.max_epochs=0", "trainer.max_epochs=0 is not allowed"),
        ("data.max_length=1024", "data.max_length=1024 is not allowed: {model} has 512 positions"),
        ("data.stride=600", "data.stride=600 is not allowed: windows must advance"),
        ("data.running_text=1.5", "data.running_text=1.5 is not allowed: use a number from 0"),
        ("data.eval_window=big", "data.eval_window='big' is not allowed"),
        ("seed=true", "seed=True is not allowed"),
        ("data.dir=???", "data.dir is not set"),
    ],
)
def test_a_wrong_value_stops_before_anything_loads(
    tmp_path, tiny_bert, conll_dir, override, expected
):
    cfg = compose_train(tmp_path, [*tiny_train_overrides(tiny_bert, conll_dir), override])
    expect_error(lambda: train(cfg), expected.format(model=tiny_bert))
    assert not (tmp_path / "run_record.json").exists()
    assert not (tmp_path / "checkpoints").exists()


def test_the_command_line_leaves_no_run_directory_behind(tmp_path, tiny_bert, conll_dir):
    run_dir = tmp_path / "run"
    overrides = tiny_train_overrides(tiny_bert, conll_dir)
    command = [sys.executable, "-m", "tunelab", "train", *overrides, f"hydra.run.dir={run_dir}"]
    result = subprocess.run([*command, "optimizer.lr=abc"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tunelab: error: optimizer.lr='abc' is not allowed: use a number > 0"
    ]
    assert not run_dir.exists()
    # a run stopped by a bad file before its first step leaves no on_exception.ckpt either, so
    # the corrected command can start in the same folder
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("train.txt", "dev.txt"):
        write_conll(bad / name, GOOD)
    write_conll(bad / "test.txt", [[("rome", "B-CITY")]])
    result = subprocess.run(
        [*command, f"data.dir={bad}", "debug=fdr"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "test.txt:1: label 'B-CITY'" in result.stderr
    assert not list(run_dir.glob("checkpoints/*.ckpt"))


def test_data_conll_without_a_folder_names_the_key(tmp_path, tiny_bert):
    cfg = compose_train(tmp_path, ["data=conll", f"model.model_name_or_path={tiny_bert}"])
    expect_error(lambda: train(cfg), "data.dir is not set; give it on the command line")


# -- checkpoints ------------------------------------------------------------------------
class Payload:
    """Unpickling this would create a file: the sign that a checkpoint ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def broken_checkpoints(folder, good):
    """name -> a checkpoint file broken in one way."""
    folder.mkdir(parents=True, exist_ok=True)
    data = good.read_bytes()
    files = {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "not_a_checkpoint": b"word O\n",
    }
    for name, content in files.items():
        (folder / f"{name}.ckpt").write_bytes(content)
    torch.save({"state_dict": {}, "x": Payload(folder / "ran")}, folder / "unsafe.ckpt")
    torch.save({"weights": torch.zeros(2)}, folder / "foreign.ckpt")
    return folder


@pytest.mark.parametrize(
    "name, expected",
    [
        ("truncated", "is not a complete checkpoint (truncated or another format"),
        ("empty", "is empty (0 bytes)"),
        ("not_a_checkpoint", "is not a complete checkpoint"),
        ("unsafe", "holds Python objects beyond tensors and plain values: refused"),
        ("foreign", "is not a Lightning checkpoint"),
        ("missing", "does not exist"),
    ],
)
def test_every_checkpoint_problem_is_one_line_naming_the_file(
    tmp_path, trained_run, name, expected
):
    run_dir, _, data_dir = trained_run
    folder = broken_checkpoints(tmp_path / "ckpts", run_dir / "checkpoints" / "best.ckpt")
    path = folder / f"{name}.ckpt"
    cfg = eval_config(tmp_path / "eval", data_dir, f"ckpt_path={path}")
    expect_error(lambda: evaluate(cfg), f"checkpoint {path} ", expected)
    assert not (folder / "ran").exists()


@pytest.mark.parametrize("key", ["ckpt_path", "model_dir"])
def test_an_empty_path_on_the_command_line_is_named(tmp_path, trained_run, key):
    cfg = eval_config(tmp_path, trained_run[2], f"{key}=")
    expect_error(lambda: evaluate(cfg), f"{key}= is empty: give a path, or leave {key} out")


@pytest.mark.parametrize("name", ["truncated", "empty", "unsafe"])
def test_a_broken_last_checkpoint_stops_a_resume(tmp_path, tiny_bert, conll_dir, name):
    good = tmp_path / "good.ckpt"
    torch.save({"state_dict": {}}, good)
    folder = broken_checkpoints(tmp_path / "run" / "checkpoints", good)
    for other in folder.glob("*.ckpt"):
        if other.stem != name:
            other.unlink()
    overrides = [*tiny_train_overrides(tiny_bert, conll_dir), "ckpt_path=last"]
    cfg = compose_train(tmp_path / "run", overrides)
    expect_error(lambda: train(cfg), f"{name}.ckpt")
    assert not (folder / "ran").exists()


# -- nothing from a file runs code -----------------------------------------------------
def remote_code_folder(folder, marker):
    """A model folder whose config asks for its own Python file, which would create `marker`."""
    folder.mkdir()
    (folder / "evil.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    auto_map = {name: f"evil.{name}" for name in ("AutoConfig", "AutoModel", "AutoTokenizer")}
    auto_map["AutoModelForTokenClassification"] = "evil.Model"
    config = {"model_type": "evil", "auto_map": auto_map, "architectures": ["EvilModel"]}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "tokenizer_config.json").write_text(json.dumps({"auto_map": auto_map}))
    return folder


def test_a_checkpoint_cannot_turn_remote_code_on(tmp_path, trained_run):
    run_dir, _, data_dir = trained_run
    marker = tmp_path / "ran"
    evil = remote_code_folder(tmp_path / "evil", marker)
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    checkpoint["hyper_parameters"].update(trust_remote_code=True, model_name_or_path=str(evil))
    planted = tmp_path / "planted.ckpt"
    torch.save(checkpoint, planted)
    cfg = eval_config(tmp_path / "eval", data_dir, f"ckpt_path={planted}")
    expect_error(lambda: evaluate(cfg), "cannot load")
    assert not marker.exists()


def test_a_model_folder_cannot_name_code_to_import_or_build(tmp_path, trained_run):
    run_dir, _, data_dir = trained_run
    marker = tmp_path / "ran"
    (tmp_path / "evil_task.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    sys.path.insert(0, str(tmp_path))
    try:
        for key, value, expected in [
            ("task", "evil_task", "names task 'evil_task', which is not one of tunelab's"),
            ("data.datamodule", "evil_task.Data", "records data class 'evil_task.Data'"),
        ]:
            model_dir = tmp_path / key
            subprocess.run(["cp", "-r", str(run_dir / "model"), str(model_dir)], check=True)
            settings = json.loads((model_dir / "tunelab.json").read_text())
            if key == "task":
                settings["task"] = value
            else:
                settings["data"]["datamodule"] = value
            (model_dir / "tunelab.json").write_text(json.dumps(settings))
            cfg = eval_config(tmp_path / f"eval-{key}", data_dir, f"model_dir={model_dir}")
            expect_error(lambda cfg=cfg: evaluate(cfg), expected)
    finally:
        sys.path.remove(str(tmp_path))
    assert not marker.exists()


def test_a_planted_cache_entry_is_never_unpickled(tmp_path, tiny_bert, conll_dir, caplog):
    from tunelab.tasks.ner.datamodule import TokenClassificationDataModule

    cache = tmp_path / "cache"
    module = TokenClassificationDataModule.from_config(
        str(tiny_bert), dir=str(conll_dir), cache_dir=str(cache)
    )
    fresh = list(module.encoded("train"))  # read before the files are overwritten in place
    (entry,) = cache.iterdir()
    assert (entry / "items.json").is_file()
    marker = tmp_path / "ran"
    for planted in ("items.json", "input_ids.bin"):
        (entry / planted).write_bytes(pickle.dumps(Payload(marker)))
    again = TokenClassificationDataModule.from_config(
        str(tiny_bert), dir=str(conll_dir), cache_dir=str(cache)
    )
    assert list(again.encoded("train")) == fresh
    assert "unreadable cache entry" in caplog.text
    assert not marker.exists()


# -- prediction keeps one record per input line ------------------------------------------
def predicted(tmp_path, trained_run, content: bytes, *overrides) -> list[dict]:
    run_dir = trained_run[0]
    source, output = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_bytes(content)
    cfg = compose_train(
        tmp_path,
        [f"model_dir={run_dir / 'model'}", f"input={source}", f"output={output}", *overrides],
        config_name="predict",
    )
    predict(cfg)
    text = output.read_text(encoding="utf-8")
    assert len(text.splitlines()) == text.count("\n"), "a record spans lines for some reader"
    return [json.loads(line) for line in text.split("\n")[:-1]]


@pytest.mark.parametrize(
    "content, texts",
    [
        (b"john went\rto paris\nmary\n", ["john went\rto paris", "mary"]),
        (b"john\n\r\nparis\n", ["john", "", "paris"]),
        ("a\u2028b\nc\x00d\ne\u0085f\n".encode(), ["a\u2028b", "c\x00d", "e\u0085f"]),
        (b"\xef\xbb\xbfparis\nrome", ["paris", "rome"]),
        (b"john went\r\nto paris\r\n", ["john went", "to paris"]),
        (b"\n\n", ["", ""]),
    ],
)
def test_prediction_writes_one_record_per_line(tmp_path, trained_run, content, texts):
    assert [r["text"] for r in predicted(tmp_path, trained_run, content)] == texts


def test_invalid_utf8_names_the_line_or_is_replaced_and_counted(tmp_path, trained_run, caplog):
    content = b"john\npar\xffis\n"
    expect_error(lambda: predicted(tmp_path, trained_run, content), "in.txt:2: not valid UTF-8")
    records = predicted(tmp_path, trained_run, content, "errors=replace")
    assert [r["text"] for r in records] == ["john", "par\ufffdis"]
    assert "1 line(s) held invalid UTF-8" in caplog.text


@pytest.mark.parametrize("output, expected", [(".", "is a folder"), ("???", "output is not set")])
def test_a_bad_output_is_one_line(tmp_path, trained_run, output, expected):
    source = tmp_path / "in.txt"
    source.write_text("john\n")
    target = str(tmp_path) if output == "." else output
    cfg = compose_train(
        tmp_path,
        [f"model_dir={trained_run[0] / 'model'}", f"input={source}", f"output={target}"],
        config_name="predict",
    )
    expect_error(lambda: predict(cfg), expected)
