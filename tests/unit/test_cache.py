"""The tokenized-split cache: hits on equal inputs, misses on any change, same items either way."""

import logging
import shutil

from tunelab.tasks.ner.datamodule import TokenClassificationDataModule


def encoded(tiny_bert, data_dir, cache_dir, **settings):
    module = TokenClassificationDataModule.from_config(
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
    assert list(again) == list(fresh) and len(fresh) > 0
    assert list(encoded(tiny_bert, conll_dir, None)) == list(fresh)


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


def test_the_key_follows_the_tokenizer_and_every_setting_value(tiny_tokenizer):
    from transformers import BertTokenizerFast

    from tunelab.data.cache import cache_key

    key = cache_key(tiny_tokenizer, {"max_length": 32}, ["a"])
    assert len(key) == 32
    assert key == cache_key(tiny_tokenizer, {"max_length": 32}, ["a"])
    assert key != cache_key(tiny_tokenizer, {"max_length": 33}, ["a"])
    assert key != cache_key(tiny_tokenizer, {"max_length": 32}, ["b"])
    other = BertTokenizerFast(vocab={"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "a": 4})
    assert key != cache_key(other, {"max_length": 32}, ["a"])


def test_entries_land_in_a_new_nested_folder_and_say_so(tmp_path, caplog):
    from tunelab.data.cache import cached

    def produce(items):
        def chunks(notes):
            notes["seen"] = len(items)
            yield items

        return chunks

    folder = tmp_path / "a" / "b"
    with caplog.at_level(logging.INFO, logger="tunelab.data.cache"):
        first = cached(str(folder), "train", "k", produce([{"x": [1, 2]}]))
        assert list(first) == [{"x": [1, 2]}] and first.notes == {"seen": 1}
        assert list(cached(str(folder), "train", "k", None)) == [{"x": [1, 2]}]
        entry = folder / "train-k"
        (entry / "x.bin").write_bytes(b"\0" * 3)  # cut short
        assert list(cached(str(folder), "train", "k", produce([{"x": [3]}]))) == [{"x": [3]}]
    assert caplog.messages[0] == f"train: tokenized items read from the cache ({entry})"
    assert caplog.messages[1].startswith(f"train: unreadable cache entry {entry} (")
    assert caplog.messages[1].endswith("): encoding again")
    assert [p.name for p in folder.iterdir()] == ["train-k"]


def test_the_key_follows_the_whole_tokenizer_definition_not_only_its_vocabulary():
    from transformers import BertTokenizerFast

    from tunelab.data.cache import cache_key

    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "a": 4}
    lower = BertTokenizerFast(vocab=vocab, do_lower_case=True)
    cased = BertTokenizerFast(vocab=vocab, do_lower_case=False)
    assert cache_key(lower, {}, ["A"]) != cache_key(cased, {}, ["A"])
