"""Prediction input lines and JSON-lines output: the rules, one by one."""

import logging

import pytest

from tunelab.data.lines import read_lines, write_jsonl
from tunelab.errors import CorpusError


def written(tmp_path, content: bytes):
    path = tmp_path / "in.txt"
    path.write_bytes(content)
    return path


def test_only_a_trailing_carriage_return_is_dropped(tmp_path):
    path = written(tmp_path, b"\rab\r\ncd\r\n\r\n")
    assert read_lines(path) == ["\rab", "cd", ""]


def test_invalid_utf8_names_the_line_and_the_byte(tmp_path):
    path = written(tmp_path, b"\xffab\n")
    expected = (
        f"{path}:1: not valid UTF-8 (byte 1 of the line); fix the file, or pass errors=replace "
        "to read such bytes as U+FFFD"
    )
    with pytest.raises(CorpusError) as caught:
        read_lines(path)
    assert str(caught.value) == expected


def test_replace_reads_undecodable_bytes_and_counts_the_lines(tmp_path, caplog):
    path = written(tmp_path, b"ok\na\xffb\xfe\nc\xff\n")
    with caplog.at_level(logging.WARNING, logger="tunelab.data.lines"):
        assert read_lines(path, "replace") == ["ok", "a\ufffdb\ufffd", "c\ufffd"]
    assert caplog.messages == [f"{path}: 2 line(s) held invalid UTF-8, read with U+FFFD"]


def test_a_clean_file_logs_nothing(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="tunelab.data.lines"):
        assert read_lines(written(tmp_path, b"a\nb"), "replace") == ["a", "b"]
    assert not caplog.messages


def test_an_unknown_errors_mode_is_refused(tmp_path):
    path = written(tmp_path, b"a\n")
    with pytest.raises(CorpusError) as caught:
        read_lines(path, "ignore")
    assert str(caught.value) == f"{path}: errors='ignore'; choose strict or replace"


def test_jsonl_keeps_text_readable_and_escapes_what_breaks_lines(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"text": "é\u2028x\u2029y\x85z\r"}, {"n": 1}])
    assert path.read_bytes() == ('{"text": "é\\u2028x\\u2029y\\u0085z\\r"}\n{"n": 1}\n'.encode())


def test_a_leading_byte_order_mark_is_not_text(tmp_path):
    assert read_lines(written(tmp_path, b"\xef\xbb\xbfparis\n\xef\xbb\xbfrome\n")) == [
        "paris",
        "\ufeffrome",  # only the file's first bytes are a mark; later ones are text
    ]
