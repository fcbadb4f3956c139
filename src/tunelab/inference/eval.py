"""`tunelab-eval`: score a checkpoint or exported model on one split, in its own run directory.

The model's recorded data settings (`tunelab.json`, or the checkpoint's) say which corpus and how
to read it; `data=PRESET` picks other data read the same way, and any `data.KEY=VALUE` wins.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf, open_dict

from tunelab import schema, tasks, untrusted
from tunelab.config import build, data_keys_given, hydra_command
from tunelab.data.reading import override
from tunelab.data.settings import config_target
from tunelab.errors import TunelabError
from tunelab.inference.loading import load_module
from tunelab.models.export.onnx import run_on_onnx
from tunelab.models.export.torch_int8 import BACKENDS, check_accepted, quantize_linear_int8
from tunelab.models.sentence_encoder import encoder_max_length
from tunelab.training.rundir import write_metrics, write_run_outputs
from tunelab.trust import abstain
from tunelab.trust.bootstrap import error_bars
from tunelab.trust.calibration import calibration_scores

log = logging.getLogger("tunelab")


def data_config(cfg: DictConfig, recorded: dict) -> DictConfig:
    """The data config an evaluation builds. With `data=model` (the default): the model's
    recorded data and settings, under every key given. With a preset: that preset's data, read
    the model's way except for the keys given on the command line."""
    own = not cfg.data.get("_target_")
    if not recorded.get("datamodule"):
        if own:
            raise TunelabError(
                "the model records no data settings (exported before tunelab.json): name its "
                "data, e.g. data=conll2003"
            )
        return cfg.data
    # the DataModule was vetted when the model was loaded (untrusted.reading_settings)
    datamodule = get_class(recorded["datamodule"])
    reading = {k: v for k, v in recorded.items() if k not in untrusted.RECORDS}
    if own:
        data = OmegaConf.create({"_target_": config_target(recorded["datamodule"]), **reading})
        given = {key: value for key, value in cfg.data.items() if value is not None}
        if given.keys() & set(datamodule.SOURCE):  # other files: not the model's own
            for key in datamodule.SOURCE:
                if key in data:
                    data[key] = None
        return OmegaConf.create(override(data, given, prefix="data."))
    data = cfg.data.copy()
    if data.get("_target_") != config_target(recorded["datamodule"]):
        return data
    given = data_keys_given(cfg)
    with open_dict(data):
        for key, value in reading.items():
            if key not in datamodule.file_keys() and key in data and key not in given:
                data[key] = value
    return data


ENCODER = "sentence-transformers/all-MiniLM-L6-v2"  # zero_shot=true's default: the packaged MiniLM


def zero_shot_setup(cfg: DictConfig, given: set[str]):
    """`zero_shot=true`: the data named by `data=` and the task's zero-shot module over its labels
    with `model_dir` (default: the packaged MiniLM); `given`: the data keys set on the command
    line."""
    task = tasks.get(str(cfg.get("task")))
    try:
        method = task.method("zero_shot")
    except TunelabError:
        method = None
    if method is None or not cfg.data.get("_target_"):
        raise TunelabError(
            f"zero_shot=true needs classification data (data=sst2, data=bbc_news, ...): "
            f"{cfg.get('task') or 'no'} data has no zero-shot method"
        )
    encoder = cfg.model_dir or ENCODER
    data = cfg.data.copy()
    with open_dict(data):
        data.tokenizer = encoder
        longest = encoder_max_length(encoder)
        if longest and data.max_length > longest and "max_length" not in given:
            # texts read as long as the encoder was trained to embed them
            data.max_length = longest
        for key, value in method.reading:
            if key not in given:
                data[key] = value
    datamodule = build(data, test_split=cfg.split)
    module = method.builder()(
        encoder,
        datamodule.labels,
        data.get("label_descriptions"),
        list(cfg.templates),
        datamodule.input_settings(),
        bool(data.get("multi_label")),
        trust_remote_code=cfg.get("trust_remote_code", False),
    )
    return module, datamodule, task


def score_file(cfg: DictConfig) -> dict[str, float]:
    """Score an existing predictions file of the config's task (`predictions=FILE`)."""
    task = tasks.get(cfg.task)
    if task.score_file is None:
        raise TunelabError(f"task {task.name} has no predictions-file format to score")
    run_dir = Path(cfg.paths.output_dir)
    metrics, report, note = task.score_file(
        cfg.predictions, cfg.data.get("scheme") or "auto", run_dir
    )
    write_metrics(run_dir / "metrics.json", metrics)
    print(report)
    print(f"{cfg.predictions}: {tasks.summary(task, metrics)}; {note}")
    return metrics


def on_backend(cfg: DictConfig, module, data: DictConfig) -> None:
    """backend=onnx: the exported graph scores the split, in fp32, on padded batches;
    backend=torch_int8: the model with int8 Linear layers, where the quality gate let it."""
    if cfg.backend not in BACKENDS:
        raise TunelabError(f"backend={cfg.backend!r}; choose one of {', '.join(BACKENDS)}")
    if not cfg.get("model_dir"):
        raise TunelabError(
            f"backend={cfg.backend} evaluates an exported model: give model_dir=RUN/model"
        )
    if cfg.backend == "torch_int8":
        check_accepted(cfg.model_dir)  # quantized once the data is read (`settle_then_quantize`)
    else:
        run_on_onnx(module, cfg.model_dir, cfg.get("onnx_model"))
    with open_dict(data), open_dict(cfg):
        if "pack" in data and cfg.backend == "onnx":
            data.pack = False
        cfg.trainer.precision = "32-true"


def settle_then_quantize(module, datamodule) -> None:
    """backend=torch_int8: one test batch through the fp32 model first, so that the module's
    one-time checks (that packed rows give one row's scores) compare fp32 with fp32; int8's own
    activation scales depend on the batch, so the quality gate judges its scores instead."""
    datamodule.setup("test")
    with torch.inference_mode():
        module.test_step(next(iter(datamodule.test_dataloader())), 0)
    quantize_linear_int8(module.model)


def choose_abstain(cfg: DictConfig, module, datamodule, trainer: pl.Trainer) -> dict[str, float]:
    """`abstain.precision=P` (or `abstain.coverage=C`): the threshold for precision P of the
    answered (C of them answered) on the dev split, what it gives on the split tested, saved as
    MODEL/abstain.json for predict and serve."""
    module.set_references({**module.references, "val": datamodule.references("dev")})
    trainer.validate(module, datamodule=datamodule, verbose=False)
    given = {k: None if v is None else float(v) for k, v in cfg.abstain.items()}
    chosen = abstain.choose(module, given.get("precision"), given.get("coverage"))
    scores = abstain.test_scores(module, chosen["threshold"])
    log.info(
        "abstain: below confidence %.4f (dev: precision %.4f, %.1f%% answered); %s: precision "
        "%.4f of the answered, %.1f%% answered",
        chosen["threshold"],
        chosen["dev_precision"],
        100 * chosen["dev_answered"],
        cfg.split,
        scores["test/abstain_precision"],
        100 * scores["test/answered"],
    )
    if cfg.get("model_dir"):
        path = abstain.save(
            cfg.model_dir,
            {
                **chosen,
                f"{cfg.split}_precision": scores["test/abstain_precision"],
                f"{cfg.split}_answered": scores["test/answered"],
            },
        )
        log.info("abstain: saved %s (predict and serve now say unsure below it)", path)
    else:
        log.info("abstain: not saved (a checkpoint has no model folder; export it first)")
    return {**scores, "abstain/threshold": chosen["threshold"]}


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test the model given by `ckpt_path` or `model_dir` on `split` (or, with `zero_shot=true`,
    a sentence encoder against label descriptions), or score an existing `predictions` file;
    write the run directory."""
    schema.check(cfg)
    if cfg.get("predictions"):
        return score_file(cfg)
    if cfg.get("zero_shot"):
        module, datamodule, task = zero_shot_setup(cfg, data_keys_given(cfg))
    else:
        module, tokenizer, task = load_module(
            cfg.ckpt_path, cfg.model_dir, cfg.get("task"), cfg.get("trust_remote_code", False)
        )
        if cfg.get("decode"):  # NER: score the same model with another decoder
            module.set_decode(cfg.decode)
        data = data_config(cfg, module.input_settings)
        if cfg.get("backend", "torch") != "torch":
            on_backend(cfg, module, data)
        datamodule = build(data, tokenizer=tokenizer, labels=module.labels, test_split=cfg.split)
        if cfg.get("backend") == "torch_int8":
            settle_then_quantize(module, datamodule)
    module.set_references({"test": datamodule.references(cfg.split)})
    trainer: pl.Trainer = build(cfg.trainer, logger=False, callbacks=[])
    began = time.perf_counter()
    trainer.test(module, datamodule=datamodule, verbose=False)  # scores logged once, below
    # the test pass alone (no loading, no bootstrap): what two models' evaluation speeds compare
    seconds = time.perf_counter() - began
    metrics = dict(module.evaluation("test").scores)
    metrics["time/test_seconds"] = round(seconds, 3)
    metrics.update(calibration_scores(module, "test"))
    metrics.update(error_bars(task, module, "test"))
    if cfg.abstain.precision is not None or cfg.abstain.coverage is not None:
        metrics.update(choose_abstain(cfg, module, datamodule, trainer))
    stats = datamodule.split_stats(cfg.split)
    metrics.update({f"test/{key}": value for key, value in stats.items()})
    run_dir = Path(cfg.paths.output_dir)
    report = write_run_outputs(run_dir, task, module, datamodule, cfg.split, metrics)
    if cfg.get("zero_shot") and cfg.get("export"):
        module.export(str(run_dir / "model"))
    print(report)
    log.info("split %s: %s", cfg.split, tasks.summary(task, metrics))
    log.info("run directory: %s", run_dir)
    return metrics


main = hydra_command("eval", evaluate)


if __name__ == "__main__":
    main()
