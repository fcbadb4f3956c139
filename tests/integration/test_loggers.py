"""Each logger preset writes a store its own viewer reads: read back here with the tools' own
readers (TensorBoard's event accumulator, MLflow's client, W&B's record format)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import compose_train, tiny_train_overrides
from tunelab.errors import TunelabError
from tunelab.training.tracking import check_loggers
from tunelab.training.train import train

PICTURES = {"learning_curves", "per_type_f1", "confused_tags"}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, tiny_bert, conll_dir):
    """One tiny run with logger=many (CSV, TensorBoard, MLflow, W&B offline)."""
    root = tmp_path_factory.mktemp("tracked")
    overrides = [
        *tiny_train_overrides(tiny_bert, conll_dir),
        "logger=many",
        f"paths.log_dir={root}",
    ]
    before = os.environ.get("MLFLOW_TRACKING_URI")
    metrics = train(compose_train(root / "run", overrides))
    # MLflow set it to this run's store; left so, the next run in the process would log there
    assert os.environ.get("MLFLOW_TRACKING_URI") == before
    return root, metrics


def test_tensorboard_events(tracked):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root, metrics = tracked
    events = EventAccumulator(str(root / "run" / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train/loss", "val/loss", "val/f1", "test/f1"} <= set(tags["scalars"])
    assert events.Scalars("test/f1")[-1].value == pytest.approx(metrics["test/f1"])
    assert {f"plots/{name}" for name in PICTURES} <= set(tags["images"])
    assert (root / "run" / "csv" / "metrics.csv").is_file()  # the CSV log stays


def test_mlflow_store(tracked):
    from mlflow.tracking import MlflowClient

    root, metrics = tracked
    client = MlflowClient(f"sqlite:///{root}/mlruns/mlflow.db")
    experiment = client.get_experiment_by_name("tunelab-train")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.metrics["test/f1"] == pytest.approx(metrics["test/f1"])
    assert {"val/f1", "val/loss", "train/loss"} <= set(run.data.metrics)
    assert run.data.params  # the module's hyperparameters
    stored = {item.path for item in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{name}.png" for name in PICTURES} <= stored


def wandb_records(path) -> list[bytes]:
    """The records of a W&B transaction log (`run-*.wandb`): a 7-byte file header, then
    LevelDB-log blocks of 32 KiB holding records of 7-byte headers (checksum, length, type)."""
    raw, block = path.read_bytes(), 32768
    assert raw[:4] == b":W&B"
    records, pending, position = [], b"", 7
    while position + 7 <= len(raw):
        left = block - position % block
        length, kind = int.from_bytes(raw[position + 4 : position + 6], "little"), raw[position + 6]
        if left < 7 or (length == 0 and kind == 0):  # the block's zero padding
            position += left
            continue
        pending += raw[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a whole record, or the last fragment of one
            records.append(pending)
            pending = b""
    return records


def test_wandb_offline_folder(tracked):
    from wandb.proto import wandb_internal_pb2

    root, metrics = tracked
    (log_file,) = (root / "run" / "wandb").glob("offline-run-*/run-*.wandb")
    history, summary, config = set(), {}, set()
    for data in wandb_records(log_file):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history |= {item.key or "/".join(item.nested_key) for item in record.history.item}
        elif kind == "summary":
            summary.update({item.key: item.value_json for item in record.summary.update})
        elif kind == "config":
            config |= {item.key for item in record.config.update}
    assert {"train/loss", "val/f1", "val/loss", "test/f1"} <= history
    assert config, "no hyperparameters"
    pictures = {p.name.split("_", 2)[0] for p in log_file.parent.glob("files/media/images/plots/*")}
    assert pictures, "no pictures"


def test_a_missing_logger_package_stops_before_the_model_loads(monkeypatch):
    from omegaconf import OmegaConf

    import tunelab.training.tracking as tracking

    section = OmegaConf.create({"x": {"_target_": "somewhere.TensorBoardLogger"}})
    check_loggers(section)  # tensorboard is installed: nothing to say
    monkeypatch.setitem(tracking.NEEDS, "TensorBoardLogger", "no_such_package_here")
    with pytest.raises(TunelabError, match="logger x needs the no_such_package_here package"):
        check_loggers(section)
