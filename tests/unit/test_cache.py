"""The tokenized-split cache: hits on equal inputs, misses on any change, same items either way."""

import logging
import shutil

from tunelab.tasks.ner.datamodule import TokenClassificationDataModule


def encoded(tiny_bert, data_dir, cache_dir, **settings):
    module = TokenClassificationDataModule(
        str(tiny_bert), dir=str(data_dir), cache_dir=cache_dir and str(cache_dir), **settings
    )
    return module.encoded("train")


def test_second_run_reads_the_cache_and_gets_equal_items(tiny_bert, conll_dir, tmp_path, caplog):
    cache = tmp_path / "cache"
    fresh = encoded(tiny_bert, conll_dir, cache)
    assert [p.name[:6] for p in cache.iterdir()] == ["train-"]
    with caplog.at_level(logging.INFO, logger="tunelab.data.cache"):
        again = encoded(tiny_bert, conll_dir, cache)
    assert "read from the cache" in caplog.text
    assert again == fresh
    assert encoded(tiny_bert, conll_dir, None) == fresh


def test_settings_and_content_change_the_key(tiny_bert, conll_dir, tmp_path):
    data, cache = tmp_path / "data", tmp_path / "cache"
    shutil.copytree(conll_dir, data)
    encoded(tiny_bert, data, cache)
    encoded(tiny_bert, data, cache, batch_size=4, group_by_length=0)
    assert len(list(cache.iterdir())) == 1, "batching settings do not change the items"
    short = encoded(tiny_bert, data, cache, max_length=16, stride=4)
    assert len(list(cache.iterdir())) == 2
    assert max(len(item["input_ids"]) for item in short) <= 16
    train = data / "train.txt"
    train.write_text(train.read_text().replace("john", "jon"))
    encoded(tiny_bert, data, cache)
    assert len(list(cache.iterdir())) == 3
