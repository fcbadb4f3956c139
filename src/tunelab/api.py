"""The commands as Python functions, for notebooks and scripts (re-exported by `tunelab`).

Each composes the same conf/*.yaml as its command, with the same overrides, and writes the same
run directory (by default under outputs/<task_name>/runs/<time>, with .hydra/config.yaml and
train.log, so `tunelab-rerun` works on it too).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf, open_dict

from tunelab.config import CONFIG_DIR, discard_unused_run_dir
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor

LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"  # as the commands' logs


@dataclass
class Run:
    """A finished run: its directory and the metrics it wrote to `metrics.json`."""

    dir: Path
    metrics: dict[str, float]

    @property
    def model_dir(self) -> Path:
        return self.dir / "model"


def compose_config(
    name: str, overrides: Iterable[str], output_dir: str | Path | None
) -> DictConfig:
    """conf/<name>.yaml with `overrides`, its run directory chosen as the command would."""
    if isinstance(overrides, str):
        raise TypeError("overrides is a list of strings, e.g. ['data=conll2003']")
    overrides = list(overrides)
    if GlobalHydra.instance().is_initialized():  # e.g. a notebook that composed before
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3", job_name=name):
        cfg = compose(config_name=name, overrides=overrides, return_hydra_config=True)
    run_dir = Path(output_dir) if output_dir else Path(cfg.hydra.run.dir)
    with open_dict(cfg):
        cfg.paths.output_dir = str(run_dir.resolve())
    saved = run_dir / ".hydra"
    saved.mkdir(parents=True, exist_ok=True)
    plain = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    OmegaConf.save(plain, saved / "config.yaml")
    OmegaConf.save(OmegaConf.create(overrides), saved / "overrides.yaml")
    return cfg


def shows_on_console() -> bool:
    """Whether tunelab's log lines already reach the terminal (a handler on stderr or stdout)."""
    for logger in (logging.getLogger("tunelab"), logging.getLogger()):
        for handler in logger.handlers:
            stream = getattr(handler, "stream", None)
            if not isinstance(handler, logging.FileHandler) and stream in (sys.stderr, sys.stdout):
                return True
    return False


@contextmanager
def logged_to(path: Path):
    """The run's log lines also go to `path`, as the commands' Hydra logging does; a run stopped
    by a user error leaves no run directory behind, as the commands' do not."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    console = None if shows_on_console() else logging.StreamHandler(sys.stderr)
    if console is not None:  # a notebook configures no logging: show tunelab's own lines
        console.setFormatter(logging.Formatter("[tunelab] %(message)s"))
        logging.getLogger("tunelab").addHandler(console)
    level = logging.getLogger("tunelab").level
    logging.getLogger("tunelab").setLevel(logging.INFO)
    stopped_by_user_error = False
    try:
        yield
    except TunelabError:
        stopped_by_user_error = True
        raise
    finally:
        root.removeHandler(handler)
        if console is not None:
            logging.getLogger("tunelab").removeHandler(console)
        logging.getLogger("tunelab").setLevel(level)
        handler.close()
        if stopped_by_user_error:
            discard_unused_run_dir(path.parent)


def train(overrides: Iterable[str] = (), output_dir: str | Path | None = None) -> Run:
    """Train as `tunelab-train OVERRIDES...` does; returns the run (directory and metrics)."""
    from tunelab.training.train import train as run_training

    overrides = list(overrides) if not isinstance(overrides, str) else overrides
    cfg = compose_config("train", overrides, output_dir)
    with open_dict(cfg):
        del cfg["hydra"]
    run_dir = Path(cfg.paths.output_dir)
    with logged_to(run_dir / "train.log"):
        logging.getLogger("tunelab").info("overrides: %s", " ".join(overrides) or "(none)")
        metrics = run_training(cfg)
    return Run(run_dir, metrics)


def distill(
    teacher: str | Path,
    overrides: Iterable[str] = (),
    layers: int | None = None,
    output_dir: str | Path | None = None,
) -> Run:
    """As `tunelab distill teacher=... [layers=N] OVERRIDES...`: a student of `layers` of the
    teacher's layers learns from it (`overrides` must name the data, e.g. `data=conll2003`)."""
    from tunelab.experiments.distill import train_overrides

    given = [f"teacher={teacher}"] + ([f"layers={layers}"] if layers else [])
    return train(train_overrides([*given, *overrides]), output_dir)


def evaluate(
    model_dir: str | Path | None = None,
    ckpt_path: str | Path | None = None,
    overrides: Iterable[str] = (),
    output_dir: str | Path | None = None,
) -> Run:
    """Evaluate as `tunelab-eval model_dir=... (or ckpt_path=...) OVERRIDES...` does."""
    from tunelab.inference.eval import evaluate as run_evaluation

    given = [f"{k}={v}" for k, v in (("model_dir", model_dir), ("ckpt_path", ckpt_path)) if v]
    cfg = compose_config("eval", [*given, *overrides], output_dir)
    run_dir = Path(cfg.paths.output_dir)
    with logged_to(run_dir / "eval.log"):
        metrics = run_evaluation(cfg)
    return Run(run_dir, metrics)


def assistant(
    model_dir: str | Path,
    answers: str | Path | None = None,
    overrides: Iterable[str] = (),
    output_dir: str | Path | None = None,
) -> Run:
    """As `tunelab assistant model_dir=... answers=... OVERRIDES...`: answers, an unsure
    threshold and a question index saved in the model; `load(model_dir)` then uses them."""
    from tunelab.apps.assistant.build import assistant as build_assistant

    given = [f"model_dir={model_dir}"] + ([f"answers={answers}"] if answers else [])
    cfg = compose_config("assistant", [*given, *overrides], output_dir)
    run_dir = Path(cfg.paths.output_dir)
    with logged_to(run_dir / "assistant.log"):
        metrics = build_assistant(cfg)
    return Run(run_dir, metrics)


def load(model_dir: str | Path, **settings) -> Predictor:
    """An exported model (RUN/model) that labels texts in memory: `.predict(texts)` returns
    the records `tunelab-predict` writes (for an assistant, with answers; `.search(texts)` finds
    past questions). `settings`: `tunelab.inference.predictor.Predictor`'s."""
    return Predictor(str(model_dir), **settings)
