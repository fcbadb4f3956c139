"""Strategy, sweeper and launcher configs that need GPUs or a cluster to run: composed and
instantiated here, so that a broken key fails in CI and not on the cluster."""

import pytest
import torch
from hydra.utils import instantiate
from pytorch_lightning.strategies import DDPStrategy, DeepSpeedStrategy, FSDPStrategy

from tests.conftest import compose_train
from tunelab.config import build


def test_ddp_on_cpu_builds_a_two_process_gloo_trainer(tmp_path):
    cfg = compose_train(tmp_path, ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"])
    trainer = build(cfg.trainer, logger=False)
    assert isinstance(trainer.strategy, DDPStrategy)
    assert trainer.num_devices == 2
    assert trainer.strategy._get_process_group_backend() == "gloo"


def test_fsdp_shards_each_layer_of_any_family(tmp_path, caplog):
    from types import SimpleNamespace

    from transformers import AutoConfig, AutoModelForTokenClassification

    from tunelab.training.shards import wrap_layers

    cfg = compose_train(tmp_path, ["trainer=fsdp"])
    assert cfg.trainer.accelerator == "gpu"
    sizes = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
    for family, layer in [("bert", "BertLayer"), ("mpnet", "MPNetLayer")]:
        strategy = instantiate(cfg.trainer.strategy)
        assert isinstance(strategy, FSDPStrategy)
        network = AutoModelForTokenClassification.from_config(
            AutoConfig.for_model(family, vocab_size=50, intermediate_size=64, **sizes)
        )
        wrap_layers(SimpleNamespace(strategy=strategy), SimpleNamespace(model=network))
        policy = strategy.kwargs["auto_wrap_policy"]
        assert [c.__name__ for c in policy._module_classes] == [layer]
    strategy = instantiate(cfg.trainer.strategy)
    wrap_layers(SimpleNamespace(strategy=strategy), SimpleNamespace(model=torch.nn.Linear(2, 2)))
    assert not strategy.kwargs.get("auto_wrap_policy")
    assert "names no layer class: the whole model is one shard unit" in caplog.text


def test_fsdp_on_cpu_stops_with_one_line_saying_why(tmp_path, tiny_bert, conll_dir):
    from tests.conftest import tiny_train_overrides
    from tests.integration.test_bad_input import expect_error
    from tunelab.training.train import train

    overrides = [*tiny_train_overrides(tiny_bert, conll_dir), "trainer=fsdp"]
    cfg = compose_train(tmp_path, [*overrides, "trainer.accelerator=cpu"])
    expect_error(lambda: train(cfg), "trainer=fsdp runs on GPUs only", "trainer=ddp")
    assert not (tmp_path / "checkpoints").exists()


def test_deepspeed_config_instantiates_the_strategy(tmp_path, monkeypatch):
    # DeepSpeed itself is a GPU package, not installed here: transformers imports it on every
    # save_pretrained when present, which prints a warning in every run. Lightning's strategy
    # constructor needs only its logger (the rest is used when a model is set up), so a stub
    # stands in for the package while the real constructor builds the DeepSpeed config.
    import logging
    import sys
    from types import SimpleNamespace

    import pytorch_lightning.strategies.deepspeed as lightning_deepspeed
    from hydra.utils import instantiate

    stub = SimpleNamespace(
        utils=SimpleNamespace(logging=SimpleNamespace(logger=logging.getLogger("deepspeed")))
    )
    monkeypatch.setitem(sys.modules, "deepspeed", stub)
    monkeypatch.setattr(lightning_deepspeed, "_DEEPSPEED_AVAILABLE", True)
    monkeypatch.setattr(lightning_deepspeed, "_DEEPSPEED_GREATER_EQUAL_0_16", True)
    cfg = compose_train(tmp_path, ["trainer=deepspeed", "trainer.strategy.stage=3"])
    strategy = instantiate(cfg.trainer.strategy)
    assert isinstance(strategy, DeepSpeedStrategy)
    assert strategy.config["zero_optimization"]["stage"] == 3


def test_slurm_launcher_instantiates(tmp_path):
    cfg = compose_train(
        tmp_path,
        ["launcher=slurm", "trainer=ddp", "trainer.devices=4", "hydra.launcher.partition=gpu"],
        return_hydra_config=True,
    )
    launcher = cfg.hydra.launcher
    assert launcher.tasks_per_node == 4 and launcher.gpus_per_node == 4
    built = instantiate(launcher)
    assert type(built).__name__ == "SlurmLauncher"


@pytest.mark.parametrize(
    "devices, tasks", [(None, 1), ("trainer.devices=3", 3), ("trainer.devices=[0,1]", 2)]
)
def test_slurm_jobs_ask_for_one_task_and_gpu_a_device(tmp_path, devices, tasks):
    overrides = ["launcher=slurm", *([devices] if devices else [])]  # the default: auto
    launcher = compose_train(tmp_path, overrides, return_hydra_config=True).hydra.launcher
    assert launcher.tasks_per_node == launcher.gpus_per_node == tasks


def test_joblib_launcher_and_optuna_sweeper_compose(tmp_path):
    cfg = compose_train(
        tmp_path,
        ["launcher=joblib", "hparams_search=optuna", f"paths.log_dir={tmp_path}"],
        return_hydra_config=True,
    )
    assert type(instantiate(cfg.hydra.launcher)).__name__ == "JoblibLauncher"
    sweeper = cfg.hydra.sweeper
    assert sweeper.direction == "maximize"
    assert sweeper.storage == f"sqlite:///{tmp_path}/optuna/train.db"
    assert (tmp_path / "optuna").is_dir()  # SQLite creates the file, not its folder
    assert set(sweeper.params) == {"optimizer.lr", "optimizer.weight_decay", "data.batch_size"}


@pytest.mark.parametrize("option", ["gpu", "fsdp", "deepspeed"])
def test_gpu_trainers_ask_for_gpus(tmp_path, option):
    assert compose_train(tmp_path, [f"trainer={option}"]).trainer.accelerator == "gpu"
