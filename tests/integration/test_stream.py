"""Training on a stream (`data.streaming=true`), masked-LM text and classification tables: every
item once an epoch, in a buffered random order, shared out between processes, and an exact
resume in mid-epoch."""

import random
import sys

import pytest

from tests.conftest import compose_train
from tests.integration import test_mlm
from tests.integration.test_bad_input import expect_error
from tests.integration.test_rerun_resume import csv_rows, metrics, rerun, run
from tunelab.data.stream import ItemStream, shuffled
from tunelab.tasks.mlm.datamodule import TextDataModule
from tunelab.training.train import train

mlm_overrides, text_dir = test_mlm.mlm_overrides, test_mlm.text_dir  # text_dir: a fixture


def test_shuffled_keeps_every_item_within_its_buffer():
    items = list(range(100))
    out = list(shuffled(iter(items), 10, random.Random(0)))
    assert sorted(out) == items and out != items
    assert all(out.index(i) >= i - 10 for i in items)  # none leaves more than 10 places early
    assert out == list(shuffled(iter(items), 10, random.Random(0)))
    assert list(shuffled(iter(items), 0, random.Random(0))) == items


def test_a_streamed_epoch_holds_the_stored_blocks_each_once(tiny_bert, text_dir):
    module = TextDataModule.from_config(
        str(tiny_bert), dir=str(text_dir), max_length=16, streaming=True, shuffle_buffer=8
    )
    stored = sorted(block["input_ids"] for block in module.encoded("train"))
    streamed = list(ItemStream(module, batch_size=4))
    assert sorted(block["input_ids"] for block in streamed) == stored
    assert [b["block"] for b in streamed] != sorted(b["block"] for b in streamed)
    ranks = [list(ItemStream(module, 4, rank, 2)) for rank in (0, 1)]
    assert sorted(b["input_ids"] for rank in ranks for b in rank) == stored
    assert ranks[0][:4] == streamed[:4] and ranks[1][:4] == streamed[4:8]  # whole batches each


def test_a_streamed_table_holds_the_stored_items_and_trains(tmp_path, tiny_bert, table_dir):
    from tests.conftest import tiny_train_overrides
    from tunelab.tasks.classification.datamodule import SequenceClassificationDataModule

    def module(**settings):
        return SequenceClassificationDataModule.from_config(
            str(tiny_bert), dir=str(table_dir), max_length=32, **settings
        )

    def content(items):
        return sorted((item["input_ids"], item["label"]) for item in items)

    stored = module().encoded("train")
    streaming = module(streaming=True, shuffle_buffer=8)
    streamed = list(ItemStream(streaming, batch_size=4))
    assert content(streamed) == content(stored) and streaming.labels == module().labels
    assert sorted(item["example"] for item in streamed) == list(range(len(stored)))
    expect_error(
        lambda: list(ItemStream(module(streaming=True, k_shot=2), 4)), "not a K-shot sample"
    )
    overrides = tiny_train_overrides(tiny_bert, table_dir, "csv")
    cfg = compose_train(tmp_path, [*overrides, "data.streaming=true", "+trainer.max_steps=6"])
    metrics = train(cfg)
    assert "test/acc" in metrics and metrics["val/acc"] == metrics["val/acc"]


def test_streaming_without_max_steps_stops_with_one_line(tmp_path, tiny_bert, text_dir):
    cfg = compose_train(tmp_path, mlm_overrides(tiny_bert, text_dir, "data.streaming=true"))
    expect_error(lambda: train(cfg), "data.streaming=true", "trainer.max_steps")


@pytest.mark.parametrize("signal_name", ["SIGKILL"])  # SIGTERM: the same position
def test_a_streamed_run_resumed_in_mid_epoch_ends_like_the_uninterrupted_one(
    tmp_path,
    tiny_bert,
    text_dir,
    signal_name,
):
    def command(run_dir, *extra):
        overrides = mlm_overrides(
            tiny_bert,
            text_dir,
            "data.streaming=true",
            "data.shuffle_buffer=16",
            "+trainer.max_steps=14",  # the stream holds about 10 batches an epoch
            "trainer.deterministic=true",
            "callbacks.last_checkpoint.every_n_train_steps=3",
            f"hydra.run.dir={run_dir}",
        )
        return [sys.executable, "-m", "tunelab", "train", *overrides, *extra]

    whole = tmp_path / "whole"
    assert run(command(whole)).returncode == 0
    stopped = tmp_path / "stopped"
    killer = [
        "+callbacks.stop._target_=tests.helpers.SignalAtStep",
        "+callbacks.stop.step=5",
        f"+callbacks.stop.signal_name={signal_name}",
    ]
    assert run(command(stopped, *killer)).returncode != 0
    resumed = rerun(stopped, "--resume", "~callbacks.stop")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert metrics(stopped) == metrics(whole)
    assert csv_rows(stopped) == csv_rows(whole)
