"""K-shot runs: the sample in the run directory and metrics, reproducible from its seed alone."""

import json
import math
from collections import Counter

import pytest

from tests.conftest import compose_train, tiny_train_overrides
from tunelab.config import build
from tunelab.errors import TunelabError
from tunelab.training.train import train


def k_shot_datamodule(tmp_path, tiny_bert, folder, data, *extra):
    overrides = [*tiny_train_overrides(tiny_bert, folder, data=data), *extra]
    return build(compose_train(tmp_path, overrides).data)


def test_classification_run_learns_from_k_per_class(tmp_path, tiny_bert, table_dir):
    overrides = tiny_train_overrides(tiny_bert, table_dir, data="csv")
    overrides += ["data.k_shot=4", "seed=7", "+trainer.fast_dev_run=true"]
    metrics = train(compose_train(tmp_path, overrides))
    sample = json.loads((tmp_path / "k_shot.json").read_text())
    assert sample["k_shot"] == 4 and sample["k_shot_seed"] == 7  # the run's seed by default
    assert sample["train"]["counts"] == {"travel": 4, "work": 4} and sample["train"]["of"] == 160
    assert sample["dev"]["examples"] == 8 and sample["dev"]["of"] == 40
    assert metrics["data/train_examples"] == 8 and metrics["data/dev_examples"] == 8
    # places name the file and the line each text was read from
    assert all(p.rsplit(":", 1)[0].endswith("train.csv") for p in sample["train"]["places"])
    datamodule = k_shot_datamodule(tmp_path, tiny_bert, table_dir, "csv")
    rows = {e.row: e.text for e in datamodule.examples("train")}
    chosen = [rows[int(p.rsplit(":", 1)[1])] for p in sample["train"]["places"]]
    again = k_shot_datamodule(tmp_path, tiny_bert, table_dir, "csv", "data.k_shot=4", "seed=7")
    assert [e.text for e in again.examples("train")] == chosen
    assert len(again.examples("test")) == 40  # test untouched


def test_ner_sample_is_reproducible_from_its_seed_alone(tmp_path, tiny_bert, conll_dir):
    draw = lambda seed: k_shot_datamodule(  # noqa: E731
        tmp_path, tiny_bert, conll_dir, "conll", "data.k_shot=3", f"data.k_shot_seed={seed}"
    )
    first, second, other = draw(11), draw(11), draw(12)
    words = lambda dm: [s.words for s in dm.sentences("train")]  # noqa: E731
    assert words(first) == words(second) != words(other)
    counts = Counter(t[2:] for s in first.sentences("train") for t in s.tags if t[:1] == "B")
    assert set(counts) == {"LOC", "ORG", "PER"} and min(counts.values()) >= 3
    assert len(first.sentences("train")) < 10 and len(first.sentences("test")) == 30


def test_k_above_a_class_count_stops_with_one_line(tmp_path, tiny_bert, table_dir):
    datamodule = k_shot_datamodule(tmp_path, tiny_bert, table_dir, "csv", "data.k_shot=100")
    with pytest.raises(TunelabError, match=r"class '(travel|work)' occurs only \d+ time"):
        datamodule.examples("train")


def test_a_dev_class_with_fewer_than_k_is_kept_whole(tmp_path, tiny_bert, table_dir):
    # 40 dev texts of two classes: K = 50 keeps them all, 10 a class at most otherwise
    whole = k_shot_datamodule(tmp_path, tiny_bert, table_dir, "csv", "data.k_shot=50")
    assert len(whole.examples("dev")) == 40
    some = k_shot_datamodule(tmp_path, tiny_bert, table_dir, "csv", "data.k_shot=10")
    assert Counter(e.label for e in some.examples("dev")) == {"travel": 10, "work": 10}


def test_the_model_does_not_carry_the_sample_setting(tmp_path, tiny_bert, conll_dir):
    datamodule = k_shot_datamodule(tmp_path, tiny_bert, conll_dir, "conll", "data.k_shot=2")
    assert "k_shot" not in datamodule.input_settings()  # eval/predict read the whole split


@pytest.mark.parametrize("steps, passes", [(None, 1), (5, 14)])
def test_a_k_shot_epoch_passes_over_the_sample_until_it_has_enough_batches(
    tmp_path, tiny_bert, table_dir, steps, passes
):
    datamodule = k_shot_datamodule(
        tmp_path,
        tiny_bert,
        table_dir,
        "csv",
        "data.k_shot=3",
        f"data.k_shot_epoch_steps={'null' if steps is None else steps}",
    )
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    order = list(loader.sampler)
    assert len(order) == 6 * passes  # whole passes over the 6 texts, 16 texts a batch
    assert len(loader) == math.ceil(6 * passes / 16) >= (steps or 1)
    assert all(sorted(order[i : i + 6]) == list(range(6)) for i in range(0, len(order), 6))
