"""Files are data: a `_target_` planted at any depth of a model folder's `tunelab.json`, of a
checkpoint's hyper-parameters or of a run folder's config is refused before anything is built,
and a model folder is checked whole before it is used."""

import json
import shutil
import subprocess
import sys

import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import compose_train, eval_config, tiny_train_overrides
from tests.integration.test_bad_input import expect_error
from tunelab.inference.eval import evaluate

# Each would run code if built: a tunelab function that runs git with chosen arguments,
# transformers' loader of a .py file from a folder, and the standard library making a folder.
TARGETS = [
    {"_target_": "tunelab.experiments.rerun.git", "_args_": ["-c", "alias.x=!touch {marker}", "x"]},
    {
        "_target_": "transformers.dynamic_module_utils.get_class_from_dynamic_module",
        "class_reference": "evil.Evil",
        "pretrained_model_name_or_path": "{marker}",
    },
    {"_target_": "os.makedirs", "name": "{marker}"},
]


def planted(node: dict, marker) -> dict:
    return json.loads(json.dumps(node).replace("{marker}", str(marker)))


def put(tree: dict, path: tuple, value) -> None:
    """Set `tree[path[0]][path[1]]...` (list indices as ints)."""
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


# -- tunelab.json -------------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t["_target_"].split(".")[0])
@pytest.mark.parametrize(
    "path, shown",
    [
        (("decode",), "decode._target_"),
        (("data", "stride"), "data.stride._target_"),
        (("data", "train_lengths", "p50"), "data.train_lengths.p50._target_"),
        (("data", "scheme"), "data.scheme._target_"),
    ],
)
def test_a_target_in_tunelab_json_is_refused(tmp_path, trained_run, target, path, shown):
    run_dir, _, data_dir = trained_run
    marker, model_dir = tmp_path / "ran", tmp_path / "model"
    shutil.copytree(run_dir / "model", model_dir)
    settings = json.loads((model_dir / "tunelab.json").read_text())
    put(settings, path, planted(target, marker))
    (model_dir / "tunelab.json").write_text(json.dumps(settings))
    cfg = eval_config(tmp_path / "eval", data_dir, f"model_dir={model_dir}")
    expect_error(lambda: evaluate(cfg), f"{model_dir / 'tunelab.json'}: {shown}", "refused")
    assert not marker.exists()


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"data": {"stride": "${oc.env:HOME}"}}, "holds an interpolation"),
        ({"data": {"stride": [1, {"_partial_": True}]}}, "data.stride[1]._partial_="),
        ({"data": {"shell": "rm"}}, "data.shell is not a setting of TokenClassificationDataModule"),
        ({"data": {"max_length": -3}}, "data.max_length=-3 is not allowed"),
        (
            {"data": {"datamodule": "tunelab.experiments.rerun.git"}},
            "outside tunelab's DataModules",
        ),
        ({"task": "classification"}, "names task 'classification', but"),
    ],
)
def test_tunelab_json_holds_known_plain_settings(tmp_path, trained_run, change, expected):
    run_dir, _, data_dir = trained_run
    model_dir = tmp_path / "model"
    shutil.copytree(run_dir / "model", model_dir)
    settings = json.loads((model_dir / "tunelab.json").read_text())
    for key, value in change.items():
        settings[key] = {**settings[key], **value} if isinstance(value, dict) else value
    (model_dir / "tunelab.json").write_text(json.dumps(settings))
    cfg = eval_config(tmp_path / "eval", data_dir, f"model_dir={model_dir}")
    expect_error(lambda: evaluate(cfg), expected)


# -- a checkpoint's hyper-parameters ----------------------------------------------------
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t["_target_"].split(".")[0])
@pytest.mark.parametrize(
    "path, shown",
    [
        (("input_settings", "stride"), "hyper_parameters.input_settings.stride._target_"),
        (("peft", "method"), "hyper_parameters.peft.method._target_"),
        (("labels", 1), "hyper_parameters.labels[1]._target_"),
        (("input_settings", "train_lengths", "max"), "train_lengths.max._target_"),
    ],
)
def test_a_target_in_a_checkpoint_is_refused(tmp_path, trained_run, target, path, shown):
    run_dir, _, data_dir = trained_run
    marker = tmp_path / "ran"
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    put(checkpoint["hyper_parameters"], path, planted(target, marker))
    ckpt = tmp_path / "planted.ckpt"
    torch.save(checkpoint, ckpt)
    cfg = eval_config(tmp_path / "eval", data_dir, f"ckpt_path={ckpt}")
    expect_error(lambda: evaluate(cfg), f"checkpoint {ckpt}: ", shown, "refused")
    assert not marker.exists()


# -- a run folder's config --------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t["_target_"].split(".")[0])
@pytest.mark.parametrize(
    "path",
    [
        ("data", "stride"),
        ("callbacks", "early_stopping", "monitor"),
        ("model", "peft"),
        ("trainer", "plugins"),
        ("optimizer",),
        ("labels_extra",),
    ],
)
def test_a_target_in_a_run_config_is_refused(tmp_path, tiny_bert, conll_dir, target, path):
    from tunelab.experiments.rerun import untrusted_entries

    config = OmegaConf.to_container(
        compose_train(tmp_path, tiny_train_overrides(tiny_bert, conll_dir))
    )
    assert untrusted_entries(config) == []
    put(config, path, planted(target, tmp_path / "ran"))
    found = untrusted_entries(config)
    where = ".".join(path) if path != ("optimizer",) else "optimizer"
    assert f"{where}._target_: {target['_target_']}" in found


def test_a_run_folder_with_a_planted_target_builds_nothing(tmp_path, tiny_bert, conll_dir):
    """End to end: `tunelab-rerun` stops before training, naming the entry."""
    run_dir, marker = tmp_path / "sent", tmp_path / "ran"
    (run_dir / ".hydra").mkdir(parents=True)
    config = OmegaConf.to_container(
        compose_train(run_dir, tiny_train_overrides(tiny_bert, conll_dir))
    )
    put(config, ("data", "stride"), planted(TARGETS[0], marker))
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    (run_dir / "run_record.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "tunelab", "rerun", str(run_dir), "--out", str(tmp_path / "again")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "data.stride._target_: tunelab.experiments.rerun.git" in result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists() and not (tmp_path / "again").exists()


def test_the_rerun_table_is_what_the_configs_build():
    """Every `_target_` of conf/ is in `BUILT_BY_CONFIGS` (or Hydra's own section), and the
    table names nothing the configs do not."""
    from pathlib import Path

    from tunelab.config import CONFIG_DIR
    from tunelab.untrusted import BUILT_BY_CONFIGS

    named = set()
    for path in Path(CONFIG_DIR).rglob("*.yaml"):
        for line in path.read_text().splitlines():
            for key in ("_target_:", "path:"):
                if line.strip().lstrip("- ").startswith(key):
                    named.add(line.split(key, 1)[1].split("#")[0].strip())
    hydra_own = {
        "hydra_plugins.tunelab_sweeper.resumable_optuna.ResumableOptunaSweeper",
        "tunelab.experiments.sweep.SweepSummary",
    }
    table = {t for targets in BUILT_BY_CONFIGS.values() for t in targets}
    named = {n for n in named if "." in n and not n.startswith("$")}
    assert named - hydra_own == table


# -- a model folder is checked whole ------------------------------------------------------
def no_tokenizer(folder):
    (folder / "tokenizer.json").unlink()


def not_json(folder):
    (folder / "tunelab.json").write_text('{"task": "ner",\n "data": {')


def truncated_weights(folder):
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])


def edit_config(**changes):
    def edit(folder):
        config = json.loads((folder / "config.json").read_text())
        config.update(changes)
        (folder / "config.json").write_text(json.dumps(config))

    return edit


def foreign_tokenizer(folder):
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    vocab.update({f"extra{i}": len(vocab) + i for i in range(500)})
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))


@pytest.mark.parametrize(
    "damage, expected",
    [
        (no_tokenizer, "holds no tokenizer (tokenizer.json or vocab.txt)"),
        (not_json, "tunelab.json:2: not valid JSON"),
        (truncated_weights, "model.safetensors is not a complete safetensors file"),
        (edit_config(id2label={"0": "O", "1": "B-PER"}), "names 2 labels but the head in"),
        (edit_config(id2label={"0": "O", "2": "B-PER"}), "id2label must number the labels 0..1"),
        (edit_config(architectures=["BertForMaskedLM"]), "names task 'ner', but"),
        (foreign_tokenizer, "tokens but the model's embeddings"),
    ],
    ids=["no tokenizer", "not JSON", "truncated", "labels", "label ids", "task", "tokenizer"],
)
@pytest.mark.parametrize("command", ["eval", "predict"])
def test_a_damaged_model_folder_is_one_line(tmp_path, trained_run, damage, expected, command):
    from tunelab.inference.predictor import Predictor

    run_dir, _, data_dir = trained_run
    model_dir = tmp_path / "model"
    shutil.copytree(run_dir / "model", model_dir)
    damage(model_dir)
    if command == "eval":
        cfg = eval_config(tmp_path / "eval", data_dir, f"model_dir={model_dir}")
        expect_error(lambda: evaluate(cfg), expected)
    else:
        expect_error(lambda: Predictor(str(model_dir)), expected)
