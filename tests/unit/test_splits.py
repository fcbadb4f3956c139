import pytest

from tunelab.data.splits import find_split_file, load_ner_splits
from tunelab.errors import TunelabError


def make(folder, *names):
    for name in names:
        (folder / name).write_text("a O\n")
    return folder


def test_finds_by_prefix(tmp_path):
    make(tmp_path, "train.conll", "valid.conll", "test_b.conll", ".hidden")
    assert find_split_file(tmp_path, "train").name == "train.conll"
    assert find_split_file(tmp_path, "dev").name == "valid.conll"
    assert find_split_file(tmp_path, "test").name == "test_b.conll"


def test_exact_stem_wins(tmp_path):
    make(tmp_path, "test.txt", "test_long.txt")
    assert find_split_file(tmp_path, "test").name == "test.txt"
    assert find_split_file(tmp_path, "test_long").name == "test_long.txt"


def test_ambiguous_or_missing(tmp_path):
    make(tmp_path, "train_a.txt", "train_b.txt")
    with pytest.raises(TunelabError, match="found train_a.txt, train_b.txt"):
        find_split_file(tmp_path, "train")
    with pytest.raises(TunelabError, match=r"dev\* or valid\*.*found none"):
        find_split_file(tmp_path, "dev")


def test_packaged_wnut16_split_is_fixed():
    loaded = load_ner_splits(["train", "dev", "test"], corpus="wnut16")
    sizes = {split: len(s) for split, s in loaded.sentences.items()}
    assert sizes == {"train": 1915, "dev": 240, "test": 239}  # 2,394 tweets, 80/10/10
    assert loaded.scheme == "iob2"
