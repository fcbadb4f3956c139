"""Every config composes and every `_target_` in it instantiates (a broken YAML fails here)."""

from pathlib import Path

import pytest
from hydra.utils import get_class, get_method

from tests.conftest import compose_train
from tunelab.config import CONFIG_DIR, build, build_all

GROUP_OPTIONS = {
    group: sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))
    for group in [
        "data",
        "model",
        "optimizer",
        "scheduler",
        "trainer",
        "callbacks",
        "logger",
        "debug",
        "experiment",
    ]
}


@pytest.mark.parametrize(
    "group, option",
    # data=model is tunelab-eval's "the model's own data" (test_eval_defaults_to_the_model's_data)
    [
        (g, o)
        for g, options in GROUP_OPTIONS.items()
        for o in options
        if o not in ("ner_base", "model")
    ],
)
def test_every_option_composes_and_targets_resolve(tmp_path, group, option):
    overrides = [f"{group}={option}"]
    if option == "conll":
        overrides.append(f"data.dir={tmp_path}")
    if option == "bert_small_scratch":  # pre-training from scratch: on raw text
        overrides.append("data=text")
    if option == "tensorboard":
        pytest.importorskip("tensorboard")
    cfg = compose_train(tmp_path, overrides)
    datamodule = get_method(cfg.data._target_).__self__  # <DataModule>.from_config
    assert set(cfg.data) - {"_target_"} <= datamodule.setting_names()
    get_class(cfg.model._target_)
    assert callable(build(cfg.optimizer)) and callable(build(cfg.scheduler))
    get_method(cfg.scheduler._target_)
    build_all(cfg.callbacks)
    build_all(cfg.logger)
    if group != "trainer" or option in ("default", "cpu", "ddp", "ddp_spawn"):
        build(cfg.trainer, logger=False)  # the GPU-only ones: tests/integration/test_scale_configs


def test_data_preset_picks_the_task(tmp_path):
    cfg = compose_train(tmp_path, ["data=conll2003"])
    assert cfg.model._target_ == "tunelab.tasks.ner.module.TokenClassificationModule"
    assert cfg.data.dir.endswith("shared/datasets/conll2003")
    assert cfg.data.tokenizer == cfg.model.model_name_or_path


def test_every_value_a_preset_sets_is_the_value_composed(tmp_path):
    """A preset's keys in another group (`@package _global_`) are not overridden by that
    group's defaults: the ordering of the defaults list decides this."""
    from omegaconf import OmegaConf

    for group, options in GROUP_OPTIONS.items():
        for option in options:
            if option in ("ner_base", "model"):
                continue
            path = Path(CONFIG_DIR) / group / f"{option}.yaml"
            if "@package _global_" not in path.read_text():
                continue
            own = OmegaConf.to_container(OmegaConf.load(path))
            cfg = compose_train(tmp_path, [f"{group}={option}"])
            for other in ("trainer", "optimizer", "scheduler"):
                for key, value in (own.get(other) or {}).items():
                    if not isinstance(value, dict | list):
                        assert cfg[other][key] == value, f"{group}={option}: {other}.{key}"


@pytest.mark.parametrize("name", ["eval", "predict"])
def test_other_entry_configs_compose(tmp_path, name):
    overrides = ["model_dir=x", "input=y", "output=z"] if name == "predict" else []
    assert compose_train(tmp_path, overrides, config_name=name).task_name == name


METHOD_EXAMPLES = [  # issue 46: each data preset with a method of its task
    ("sst2", "setfit", "SetFitModule"),
    ("rotten_tomatoes", "prompt", "PromptModule"),
    ("bbc_news", "zero_shot", "zero_shot_module"),
    ("conll2003", "finetune", "TokenClassificationModule"),
]


@pytest.mark.parametrize("data, method, target", METHOD_EXAMPLES)
def test_a_method_composes_with_a_data_preset(tmp_path, data, method, target):
    cfg = compose_train(tmp_path, [f"data={data}", f"method={method}"])
    assert cfg.method == method and cfg.model._target_.endswith(target)
    assert cfg.model.model_name_or_path == "sentence-transformers/all-MiniLM-L6-v2"
    get_method(cfg.model._target_)


def test_model_presets_name_encoders_only():
    """`model=` picks an encoder (its name or folder, or the architecture of one trained from
    scratch); which module learns the task, and how, is `method=`."""
    for path in (Path(CONFIG_DIR) / "model").glob("*.yaml"):
        text = path.read_text()
        assert "_target_" not in text, path
        assert not any(line.startswith(("task:", "method:")) for line in text.splitlines()), path
