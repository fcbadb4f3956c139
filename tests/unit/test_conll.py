import pytest

from tunelab.data.conll import by_document, read_conll
from tunelab.errors import CorpusError


def test_reads_words_tags_middle_columns_tabs_and_docstart(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(
        b"-DOCSTART- -X- O O\r\n\r\nEU NNP B-NP B-ORG\r\nrejects\tVBZ\tO\r\n \t\r\n"
        b"-DOCSTART- O\n\nPeter B-PER\n"
    )
    sentences = read_conll(path)
    assert [s.words for s in sentences] == [["EU", "rejects"], ["Peter"]]
    assert [s.tags for s in sentences] == [["B-ORG", "O"], ["B-PER"]]
    assert sentences[0].lines == [3, 4]
    assert [s.doc for s in sentences] == [1, 2]


def test_keeps_unicode_words_and_strips_bom(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\ufeffZürich B-LOC\nno\u00a0break O\n😀 O\n", encoding="utf-8")
    (sentence,) = read_conll(path)
    assert sentence.words == ["Zürich", "no\u00a0break", "😀"]


def test_one_column_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a O\n\nb O\nlonely\n")
    with pytest.raises(CorpusError, match=r"bad.txt:4: expected 'word \.\.\. TAG'"):
        read_conll(path)


def test_words_only_mode_reads_one_column(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("Hello\nworld\n\nagain\n")
    assert [s.words for s in read_conll(path, with_tags=False)] == [["Hello", "world"], ["again"]]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"-DOCSTART- O\n\n"])
def test_empty_file_is_an_error(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match="empty.txt: no sentences"):
        read_conll(path)


def test_invalid_utf8_names_line(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"a O\nZ\xfcrich B-LOC\n")
    with pytest.raises(CorpusError, match="latin.txt:2: not valid UTF-8"):
        read_conll(path)


def test_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="cannot read"):
        read_conll(tmp_path / "nope.txt")


def test_stray_byte_order_marks_are_blank(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("Dubbz\ufeff\tB-person\n!\tO\n\ufeff\nnext\tO\n", encoding="utf-8")
    sentences = read_conll(path)
    assert [s.words for s in sentences] == [["Dubbz", "!"], ["next"]]


def test_by_document_groups_sentence_indices_in_order():
    assert by_document([1, 1, 2, 2, 2, 3]) == [[0, 1], [2, 3, 4], [5]]
    assert by_document([0, 0, 0]) == [[0, 1, 2]]


def test_each_sentence_knows_its_file_and_words_only_mode_says_o(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("john B-PER\n\nparis B-LOC\n")
    assert {s.path for s in read_conll(path)} == {str(path)}
    assert [s.tags for s in read_conll(path, with_tags=False)] == [["O"], ["O"]]


def test_a_gold_pred_file_needs_three_columns(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("john B-PER\n")
    with pytest.raises(CorpusError) as caught:
        read_conll(path, tag_column=-2)
    assert str(caught.value) == (
        f"{path}:1: expected 'word ... GOLD PRED', found 2 column(s) 'john B-PER'"
    )


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(CorpusError) as caught:
        read_conll(tmp_path)
    assert str(caught.value) == f"{tmp_path}: cannot read file (Is a directory)"
