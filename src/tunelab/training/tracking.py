"""Experiment trackers (the `logger` config group): each checked before the model loads, and
given the run's pictures at the end. Lightning's loggers carry the hyperparameters and every
logged metric (test scores included) themselves.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from pathlib import Path

from omegaconf import DictConfig

from tunelab.errors import TunelabError

log = logging.getLogger("tunelab")
# logger class -> the module it needs
NEEDS = {"TensorBoardLogger": "tensorboard", "MLFlowLogger": "mlflow", "WandbLogger": "wandb"}
# MLflow writes the store it logs to into the environment (for its subprocesses), where
# conf/logger/mlflow.yaml reads the user's own choice of store
MLFLOW_URI = "MLFLOW_TRACKING_URI"


def keeps_tracking_environment(run):
    """`run` with MLFLOW_TRACKING_URI put back afterwards as it was: else the next run in the same
    process (a notebook, two `tunelab.train` calls, a sweep's jobs) takes the first run's store
    for the user's choice and logs into it."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        before = os.environ.get(MLFLOW_URI)
        try:
            return run(*args, **kwargs)
        finally:
            if before is None:
                os.environ.pop(MLFLOW_URI, None)
            else:
                os.environ[MLFLOW_URI] = before

    return wrapper


def check_loggers(section: DictConfig | None) -> None:
    """A logger whose package is missing stops the run before anything loads."""
    for name, node in (section or {}).items():
        if not isinstance(node, DictConfig):
            continue
        needed = NEEDS.get(str(node.get("_target_", "")).rsplit(".", 1)[-1])
        uri = str(node.get("tracking_uri") or "")
        if uri.startswith("sqlite:///"):  # SQLite makes the file, not its folder
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if needed and importlib.util.find_spec(needed) is None:
            raise TunelabError(
                f"logger {name} needs the {needed} package: bash scripts/setup.sh installs it "
                f"(it is in requirements.lock), or pip install {needed}"
            )


def prepare(loggers: list) -> list:
    """Loggers as built, minus the setting Lightning always passes to W&B (`anonymous`, even
    when unset), which W&B answers with a deprecation warning nobody can act on."""
    for logger in loggers:
        if type(logger).__name__ == "WandbLogger":
            logger._wandb_init.pop("anonymous", None)
    return loggers


def log_pictures(loggers: list, folder: Path) -> None:
    """The run's plots/*.png to each logger that stores images or files."""
    pictures = sorted(folder.glob("*.png"))
    for logger in loggers if pictures else []:
        kind = type(logger).__name__
        if kind == "TensorBoardLogger":
            from matplotlib.image import imread

            for path in pictures:
                image = imread(path)[..., :3]  # RGBA -> RGB
                logger.experiment.add_image(f"plots/{path.stem}", image, dataformats="HWC")
            logger.experiment.flush()
        elif kind == "MLFlowLogger":
            for path in pictures:
                logger.experiment.log_artifact(logger.run_id, str(path), artifact_path="plots")
        elif kind == "WandbLogger":
            for path in pictures:
                logger.log_image(key=f"plots/{path.stem}", images=[str(path)])


def finish(loggers: list) -> None:
    """Close the W&B run now (its summary and files written), not at interpreter exit."""
    for logger in loggers:
        if type(logger).__name__ == "WandbLogger":
            logger.experiment.finish()
