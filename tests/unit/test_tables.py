import bz2
import json

import pytest

from tunelab.data.tables import read_table
from tunelab.errors import CorpusError


def test_csv_with_quotes_newlines_crlf_and_bom(tmp_path):
    path = tmp_path / "t.csv"
    content = 'text,label\r\n"Hello, world",pos\r\n"two\r\nlines ""quoted""",neg\r\n'
    path.write_bytes(("\ufeff" + content + "Zürich,pos\r\n").encode())
    rows = read_table(path, "text", "label")
    assert [r.text for r in rows] == ["Hello, world", 'two\r\nlines "quoted"', "Zürich"]
    assert [r.row for r in rows] == [2, 3, 5]


def test_tsv_is_not_quoted(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text('label\tsentence\n1\t" a quoted start\n0\tplain\n')
    rows = read_table(path, ["sentence", "content"], "label")
    assert [(r.text, r.label) for r in rows] == [('" a quoted start', "1"), ("plain", "0")]


def test_jsonl_and_pairs(tmp_path):
    path = tmp_path / "t.jsonl"
    records = [{"q": "where?", "a": "here", "y": 1}, {"q": "who?", "a": "me", "y": 0}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    rows = read_table(path, "q", "y", text_pair_column="a")
    assert [(r.text, r.text_pair, r.label) for r in rows] == [
        ("where?", "here", "1"),
        ("who?", "me", "0"),
    ]


def test_compressed(tmp_path):
    path = tmp_path / "t.csv.bz2"
    path.write_bytes(bz2.compress(b"text,label\nhi,a\n"))
    assert read_table(path, "text", "label")[0].text == "hi"


def test_missing_column_names_file_row_and_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("sentence,label\nhi,a\n")
    with pytest.raises(
        CorpusError, match=r"t.csv:2: no column 'text'; columns are sentence, label"
    ):
        read_table(path, "text", "label")


def test_empty_text_names_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('text,label\nhi,a\n"  ",b\n')
    with pytest.raises(CorpusError, match=r"t.csv:3: empty 'text'"):
        read_table(path, "text", "label")


def test_bad_json_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{oops\n')
    with pytest.raises(CorpusError, match=r"t.jsonl:2: invalid JSON"):
        read_table(path, "text", "label")


def test_unknown_format_and_empty_file(tmp_path):
    with pytest.raises(CorpusError, match="unknown table format"):
        read_table(tmp_path / "t.xlsx", "text", "label")
    (tmp_path / "e.csv").write_text("text,label\n")
    with pytest.raises(CorpusError, match="e.csv: no rows"):
        read_table(tmp_path / "e.csv", "text", "label")


def test_keep_labels_skips_before_checks(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\n,plot\nnice,fresh\n")
    assert [r.text for r in read_table(path, "text", "label", keep_labels={"fresh"})] == ["nice"]


@pytest.mark.parametrize(
    "header, expected",
    [
        ("text,label,label", "train.csv:1: column 'label' appears twice (columns 2, 3)"),
        ("text,text,label", "train.csv:1: column 'text' appears twice (columns 1, 2)"),
    ],
)
def test_a_repeated_column_is_refused(tmp_path, header, expected):
    path = tmp_path / "train.csv"
    path.write_text(f"{header}\nhello,a,b\n")
    with pytest.raises(CorpusError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_table(path, "text", "label")


@pytest.mark.parametrize(
    "record, expected",
    [
        ('{"text": ["a", "b"], "label": "x"}', "'text' holds a list, not a string"),
        ('{"text": 3, "label": "x"}', "'text' holds int, not a string"),
        ('{"text": {"a": 1}, "label": "x"}', "'text' holds an object, not a string"),
        ('{"text": "a", "label": ["x", "y"]}', "'label' holds a list, not a string; write"),
        ('{"text": "a", "label": "x", "label": "y"}', "key 'label' appears twice"),
    ],
)
def test_jsonl_values_that_are_not_texts_are_refused(tmp_path, record, expected):
    path = tmp_path / "train.jsonl"
    path.write_text('{"text": "fine", "label": "x"}\n' + record + "\n")
    with pytest.raises(CorpusError, match=f"train.jsonl:2: {expected}"):
        read_table(path, "text", "label")


def test_jsonl_numbers_and_booleans_are_labels(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": true}\n')
    assert [e.label for e in read_table(path, "text", "label")] == ["1", "True"]


def table_error(path, content: bytes, text_column="text", label_column="label") -> str:
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CorpusError) as caught:
        read_table(path, text_column, label_column)
    return str(caught.value)


@pytest.mark.parametrize(
    "name, content, columns, problem",
    [
        (
            "t.xml",
            b"",
            ("text", "label"),
            "unknown table format; use one of .csv, .tsv, .jsonl, .json, .ndjson",
        ),
        ("t.jsonl", b"[1, 2]\n", ("text", "label"), "1: expected a JSON object per line"),
        ("t.csv", b"text,label\na,b,c\n", ("text", "label"), "2: more fields than header columns"),
        (
            "t.csv",
            b"x,label\na,b\n",
            (["text", "sentence"], "label"),
            "2: no column 'text or sentence'; columns are x, label",
        ),
        ("t.csv", b"text,label\n\xff,b\n", ("text", "label"), "not valid UTF-8"),
        (
            "t.csv",
            b"text,label\n" + b"a" * 200_000 + b",b\n",
            ("text", "label"),
            "2: malformed CSV: field larger than field limit (131072)",
        ),
        (
            "t.csv",
            b'text,label\nhello,a\n"oops,b\nthird,c\n',
            ("text", "label"),
            "3: malformed CSV: a quote opened in this row is never closed",
        ),
        (
            "t.jsonl",
            b'{"text": ["a"], "label": "b"}\n',
            ("text", "label"),
            "1: 'text' holds a list, not a string",
        ),
    ],
)
def test_every_table_error_is_exact(tmp_path, name, content, columns, problem):
    path = tmp_path / name
    message = table_error(path, content, *columns)
    assert (
        message == f"{path}:{problem}" if problem[0].isdigit() else message == f"{path}: {problem}"
    )


def test_an_unreadable_path_names_itself(tmp_path):
    (tmp_path / "t.csv").mkdir()
    assert (
        table_error(tmp_path / "t.csv", None)
        == f"{tmp_path / 't.csv'}: cannot read file (Is a directory)"
    )


def test_gzip_tables_and_where_each_row_came_from(tmp_path):
    import gzip

    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"text,label\nhi, a \nho,b\n"))
    rows = read_table(path, "text", "label")
    assert [(r.text, r.label, r.path, r.row) for r in rows] == [
        ("hi", "a", str(path), 2),
        ("ho", "b", str(path), 3),
    ]
    assert [r.label for r in read_table(path, "text", None)] == ["", ""]
