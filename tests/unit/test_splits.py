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


def test_folders_and_hidden_files_are_not_splits(tmp_path):
    make(tmp_path, "test.txt", ".train.swp")
    (tmp_path / "train_backup").mkdir()
    with pytest.raises(TunelabError, match=r"train\*.*found none"):
        find_split_file(tmp_path, "train")
    make(tmp_path, "extra_words.txt")
    assert find_split_file(tmp_path, "extra_words").name == "extra_words.txt"


def test_split_errors_name_the_problem(tmp_path):
    with pytest.raises(TunelabError, match=f"data folder {tmp_path / 'nope'} does not exist"):
        find_split_file(tmp_path / "nope", "train")
    with pytest.raises(
        TunelabError, match=r"set exactly one of data.corpus \(packaged\) or data.dir"
    ):
        load_ner_splits(["train"])
    with pytest.raises(TunelabError, match="packaged corpus 'wnut16' has splits train, dev, test"):
        load_ner_splits(["test_long"], corpus="wnut16")


def test_normalisations_are_counted_and_logged_per_split(tmp_path, caplog):
    (tmp_path / "train.txt").write_text("john b-PER\nparis I-LOC\n\nmary B-PER\n")
    with caplog.at_level("INFO", logger="tunelab.data.splits"):
        loaded = load_ner_splits(["train"], directory=str(tmp_path))
    assert loaded.sentences["train"][0].tags == ["B-PER", "B-LOC"]
    assert (loaded.upper_cased, loaded.repairs, loaded.scheme) == (
        {"train": 1},
        {"train": 1},
        "iob2",
    )
    assert caplog.messages == [
        "train split: upper-cased 1 lower-case tag prefix(es), e.g. b-LOC -> B-LOC",
        "tag scheme detected: IOB2",
        "train split: repaired 1 invalid tag(s); rule: an I- tag that does not continue its "
        "entity starts a new one",
    ]


def test_an_unknown_scheme_is_named(tmp_path):
    with pytest.raises(TunelabError) as caught:
        load_ner_splits(["train"], directory=str(tmp_path), scheme="bilou")
    assert str(caught.value) == "data.scheme='bilou'; choose one of auto, iob1, iob2, bioes"
