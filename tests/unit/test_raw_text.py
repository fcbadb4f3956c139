"""Raw-text reading for masked-LM training: files, formats, splits and blocks."""

import bz2
import gzip
import json
from functools import partial
from types import SimpleNamespace

import pytest

from tunelab.data.raw_text import folder_split, read_texts
from tunelab.errors import CorpusError, TunelabError

LINES = ["first text", "", "  second text  ", "   ", "third"]


def test_txt_keeps_non_blank_lines_in_order(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("\n".join(LINES) + "\n")
    assert read_texts(path) == ["first text", "second text", "third"]


@pytest.mark.parametrize("opener, suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2")])
def test_compressed_txt_reads_as_plain(tmp_path, opener, suffix):
    path = tmp_path / f"train.txt{suffix}"
    with opener(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(LINES))
    assert read_texts(path) == ["first text", "second text", "third"]


def test_jsonl_and_csv_read_their_text_column(tmp_path):
    jsonl = tmp_path / "train.jsonl"
    rows = [{"body": "one", "id": 1}, {"body": "", "id": 2}, {"body": "two", "id": 3}]
    jsonl.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert read_texts(jsonl, "body") == ["one", "two"]
    table = tmp_path / "train.csv"
    table.write_text('id,body\n1,"a, quoted"\n2,\n3,b\n')
    assert read_texts(table, "body") == ["a, quoted", "b"]
    with pytest.raises(CorpusError, match="no column 'text'"):
        read_texts(table)


def test_empty_corpus_names_the_file(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("\n  \n\n")
    with pytest.raises(CorpusError, match=r"train\.txt.*holds no text"):
        read_texts(path)


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_bytes(b"fine\nbad \xff byte\n")
    with pytest.raises(CorpusError, match=r"train\.txt:2: not valid UTF-8"):
        read_texts(path)
    assert read_texts(path, errors="replace")[1] == "bad \ufffd byte"


def test_held_out_dev_is_a_seeded_share_disjoint_from_train(tmp_path):
    texts = [f"text {i}" for i in range(300)]
    (tmp_path / "train.txt").write_text("\n".join(texts))
    train = folder_texts(tmp_path, "train", dev_fraction=0.01)
    dev = folder_texts(tmp_path, "dev", dev_fraction=0.01)
    assert len(dev) == 3 and len(train) == 297
    assert set(train).isdisjoint(dev) and sorted(train + dev) == sorted(texts)
    assert folder_texts(tmp_path, "dev", dev_fraction=0.01) == dev  # the same every time
    assert folder_texts(tmp_path, "test", dev_fraction=0.01) == dev  # no test file: dev
    assert len(folder_texts(tmp_path, "dev", dev_fraction=0.001)) == 1  # at least one


def test_dev_and_test_files_win(tmp_path):
    (tmp_path / "train.txt").write_text("a\nb\nc\n")
    (tmp_path / "valid.txt").write_text("d\n")
    (tmp_path / "test.jsonl").write_text('{"text": "e"}\n')
    assert folder_texts(tmp_path, "train") == ["a", "b", "c"]
    assert folder_texts(tmp_path, "dev") == ["d"]
    assert folder_texts(tmp_path, "test") == ["e"]


def test_one_text_cannot_be_split(tmp_path):
    (tmp_path / "train.txt").write_text("only one\n")
    with pytest.raises(CorpusError, match="one text"):
        folder_texts(tmp_path, "dev")
    with pytest.raises(TunelabError, match="missing does not exist"):
        folder_texts(tmp_path / "missing", "train")


def folder_texts(*args, **kwargs) -> list[str]:
    return list(folder_split(*args, **kwargs))


def cut(token_lists, length, split, monkeypatch, per_chunk=2):
    """`TextDataModule._blocks` over texts whose ids are `token_lists`, `per_chunk` at a time."""
    from tunelab.tasks.mlm import datamodule

    monkeypatch.setattr(datamodule, "TEXTS_PER_CHUNK", per_chunk)
    encodings = [SimpleNamespace(ids=ids) for ids in token_lists]
    monkeypatch.setattr(
        datamodule, "plain_encoder", lambda _: lambda t: [encodings[int(i)] for i in t]
    )
    fake = SimpleNamespace(
        tokenizer=None,
        reading=SimpleNamespace(max_length=length),
        pretraining=SimpleNamespace(whole_word_mask=False),
    )
    fake._block = partial(datamodule.TextDataModule._block, fake)
    notes = {}
    texts = [str(i) for i in range(len(token_lists))]
    chunks = list(datamodule.TextDataModule._blocks(fake, texts, split, notes))
    blocks = [item for chunk in chunks for item in chunk]
    assert [item["block"] for item in blocks] == list(range(len(blocks)))
    assert notes["texts"] == len(token_lists)
    return [item["input_ids"] for item in blocks], notes["left_over"]


def test_blocks_cut_the_concatenated_stream(monkeypatch):
    lists = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]
    assert cut(lists, 4, "train", monkeypatch) == ([[1, 2, 3, 4], [5, 6, 7, 8]], 1)
    assert cut(lists, 4, "dev", monkeypatch) == ([[1, 2, 3, 4], [5, 6, 7, 8], [9]], 0)
    assert cut(lists, 3, "train", monkeypatch, 1) == ([[1, 2, 3], [4, 5, 6], [7, 8, 9]], 0)
    assert cut([[1, 2]], 3, "train", monkeypatch) == ([], 2)
    assert cut(lists, 9, "train", monkeypatch, 5) == ([list(range(1, 10))], 0)


def test_blocks_hold_the_ids_the_tokenizer_gives_even_when_its_file_truncates(tiny_bert):
    from transformers import AutoTokenizer

    from tunelab.tasks.mlm.datamodule import plain_encoder

    tiny_tokenizer = AutoTokenizer.from_pretrained(tiny_bert)  # changed below: not the shared one
    texts = ["hello world " * 20, "the cat", "zzqx hello"]
    expected = tiny_tokenizer(texts)["input_ids"]
    tiny_tokenizer.backend_tokenizer.enable_truncation(8)  # as a tokenizer.json may carry
    tiny_tokenizer.backend_tokenizer.enable_padding(length=64)
    encodings = plain_encoder(tiny_tokenizer)(texts)
    assert [e.ids for e in encodings] == expected and len(expected[0]) > 8
    assert tiny_tokenizer.backend_tokenizer.truncation is not None  # the tokenizer is untouched
    pairs = tiny_tokenizer(texts, return_offsets_mapping=True)["offset_mapping"]
    assert [list(e.offsets) for e in encodings] == [list(row) for row in pairs]


def test_learnt_vocabulary_keeps_every_chinese_character(tmp_path):
    from tunelab.tasks.mlm.datamodule import train_wordpiece

    characters = [chr(0x4E00 + i) for i in range(1500)]  # more than the library's default 1,000
    texts = ["".join(characters[i : i + 30]) for i in range(0, 1500, 10)] * 2
    tokenizer = train_wordpiece(texts, 3000, True, tmp_path / "vocab")
    assert set(characters) <= set(tokenizer.get_vocab())
    assert tokenizer.tokenize(characters[7] + characters[1200]) == [characters[7], characters[1200]]
