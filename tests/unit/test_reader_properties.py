"""Property-based tests of the readers: random bytes never end in a traceback (only a one-line
CorpusError), and every word, tag, row and line of a well-formed file comes back unchanged."""

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.data.conll import read_conll
from tunelab.data.lines import read_lines
from tunelab.data.schemes import detect_scheme, to_iob2
from tunelab.data.tables import read_table
from tunelab.errors import CorpusError

SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".csv.gz")
# Printable text of any script: no control characters, surrogates or line/paragraph separators.
TEXT = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
WORD = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs"), blacklist_characters="\ufeff"
    ),
    min_size=1,
    max_size=8,
).filter(lambda w: w != "-DOCSTART-")
TAG = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC-X"])


def written(content: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp())
    path = folder / f"data{suffix}"
    if suffix.endswith(".gz"):
        import gzip

        content = gzip.compress(content)
    path.write_bytes(content)
    return path


def one_line_or_nothing(read) -> None:
    try:
        read()
    except CorpusError as err:
        assert "\n" not in str(err)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(SUFFIXES))
def test_random_bytes_give_a_result_or_one_line(content, suffix):
    path = written(content, suffix)
    if suffix == ".txt":
        one_line_or_nothing(lambda: read_conll(path))
        one_line_or_nothing(lambda: read_lines(path))
    else:
        one_line_or_nothing(lambda: read_table(path, "text", "label"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.text(TEXT, max_size=12), min_size=1, max_size=4), max_size=6))
def test_random_tags_give_iob2_or_one_line(rows):
    """Tag columns of any content: read, detected and converted, or refused with one line."""
    lines = "\n\n".join("\n".join(f"w {cell.strip() or 'O'}" for cell in row) for row in rows)
    path = written(lines.encode(), ".txt")
    try:
        sentences = read_conll(path)
        scheme = detect_scheme(sentences)
        for sentence in sentences:
            to_iob2(sentence, scheme)
    except CorpusError as err:
        assert "\n" not in str(err)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.tuples(WORD, TAG), min_size=1, max_size=6), min_size=1, max_size=5),
    st.sampled_from([" ", "\t"]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_conll_words_and_tags_come_back_unchanged(sentences, separator, newline):
    text = "".join(
        "".join(f"{w}{separator}{t}{newline}" for w, t in sentence) + newline
        for sentence in sentences
    )
    read = read_conll(written(text.encode(), ".txt"))
    assert [list(zip(s.words, s.tags, strict=True)) for s in read] == [
        list(sentence) for sentence in sentences
    ]


ROW_TEXT = st.text(TEXT, min_size=1, max_size=20).filter(lambda t: t.strip())
LABEL = st.text(TEXT, min_size=1, max_size=6).filter(lambda t: t.strip() == t and t)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(ROW_TEXT, LABEL), min_size=1, max_size=8),
    st.sampled_from([".csv", ".jsonl"]),
)
def test_table_rows_come_back_unchanged(rows, suffix):
    if suffix == ".csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
        content = out.getvalue()
    else:
        content = "".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows)
    read = read_table(written(content.encode(), suffix), "text", "label")
    assert [(e.text, e.label) for e in read] == rows


LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=15)


@settings(max_examples=150, deadline=None)
@given(st.lists(LINE.filter(lambda t: not t.endswith("\r")), max_size=8))
def test_prediction_lines_come_back_one_per_line(lines):
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]  # a leading byte-order mark is not text
    content = "".join(line + "\n" for line in lines)
    assert read_lines(written(content.encode(), ".txt")) == lines
