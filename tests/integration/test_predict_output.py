"""tunelab-predict never overwrites or loses input: output equal to an input is refused, a
stopped run leaves nothing behind and touches no file of the user's, CSV output is safe to open in
a spreadsheet, compressed names are compressed, bad CSV quoting and bad archives are one line."""

from __future__ import annotations

import bz2
import gzip
import os
import signal

import pytest

from tests.integration.test_bad_input import expect_error
from tests.integration.test_predict_table import read_csv, run, write_csv


def listing(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    "name, content, overrides",
    [
        ("in.txt", "john lives in paris\n", []),
        ("in.csv", "text\njohn\n\n3,4,5\n", ["skip_bad_rows=true"]),
        ("in.conll", "john B-PER\nlives O\n\n", ["format=conll"]),
    ],
)
def test_output_equal_to_input_is_refused(tmp_path, trained_run, name, content, overrides):
    source = tmp_path / name
    source.write_text(content)
    for output in (source, tmp_path / "." / name, tmp_path / "link"):
        if output.name == "link":
            output.symlink_to(source)
        message = f"output={output} is the input file {source}: refused"
        expect_error(
            lambda o=output: run(tmp_path, trained_run[0] / "model", source, o, *overrides), message
        )
        assert source.read_text() == content


def test_a_file_named_like_the_partial_is_kept(tmp_path, trained_run):
    source, output = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_text("john lives in paris\n")
    mine = tmp_path / "out.jsonl.partial"
    mine.write_text("the user's own file")
    run(tmp_path, trained_run[0] / "model", source, output)
    assert mine.read_text() == "the user's own file"
    assert listing(tmp_path) == ["in.txt", "out.jsonl", "out.jsonl.partial"]


@pytest.mark.parametrize("how", ["error", "ctrl-c", "sigterm"])
@pytest.mark.parametrize("name", ["in.txt", "in.csv"])
def test_a_stopped_run_leaves_nothing(tmp_path, trained_run, monkeypatch, how, name):
    """Stopped in its second chunk of rows (a table's first 512 rows are written by then)."""
    from tunelab.tasks.ner import predict as ner_predict

    source, output = tmp_path / name, tmp_path / "out" / "labelled.csv"
    rows = "".join(f"john number {i}\n" for i in range(600))
    source.write_text("text\n" + rows if name == "in.csv" else rows)
    real, calls = ner_predict.predict_tags, []

    def stop_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1 and name == "in.csv":
            return real(*args, **kwargs)
        if how == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        raise KeyboardInterrupt if how == "ctrl-c" else RuntimeError("broken")

    monkeypatch.setattr(ner_predict, "predict_tags", stop_second_time)
    expected = {"error": RuntimeError, "ctrl-c": KeyboardInterrupt, "sigterm": SystemExit}[how]
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(expected):
        run(tmp_path, trained_run[0] / "model", source, output)
    assert not output.parent.exists() or listing(output.parent) == []
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("escape, expected", [("true", "'"), ("false", "")])
def test_csv_output_escapes_formulas_by_default(tmp_path, classified_run, escape, expected):
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    cells = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "plain", "a=b"]
    write_csv(source, [[c, "paris today", c] for c in cells], header=("id", "text", "note"))
    run(tmp_path, classified_run[0] / "model", source, output, f"escape_formulas={escape}")
    rows = read_csv(output)
    for row, given in zip(rows, cells, strict=True):
        prefix = expected if given[0] in "=+-@" else ""
        assert row["id"] == row["note"] == prefix + given
    assert rows[0]["pred"] in ("travel", "work")


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open)])
def test_compressed_output_names_are_compressed(tmp_path, classified_run, suffix, opener):
    source = tmp_path / "in.csv"
    write_csv(source, [["1", "paris today", "x"]])
    for output in (tmp_path / f"out.csv{suffix}", tmp_path / f"out.jsonl{suffix}"):
        run(tmp_path, classified_run[0] / "model", source, output)
        with opener(output, "rt", encoding="utf-8") as handle:
            text = handle.read()
        assert "paris today" in text and "pred" in text
    lines = tmp_path / "in.txt"
    lines.write_text("paris today\n")
    run(tmp_path, classified_run[0] / "model", lines, tmp_path / f"lines.jsonl{suffix}")
    with opener(tmp_path / f"lines.jsonl{suffix}", "rt", encoding="utf-8") as handle:
        assert '"text": "paris today"' in handle.read()


@pytest.mark.parametrize(
    "name, content, expected",
    [
        (
            "in.csv",
            b'text\njohn\n"mary went\nto paris\n',
            "in.csv:3: malformed CSV: a quote opened",
        ),
        ("in.csv", b"text\njohn\n   \n", "in.csv:3: 'text' is empty"),
        ("in.csv.gz", b"\x1f\x8b\x08\x00broken", "in.csv.gz: cannot decompress"),
        ("in.txt.gz", b"\x1f\x8b\x08\x00broken", "in.txt.gz: cannot decompress"),
    ],
)
def test_bad_input_files_are_one_line(tmp_path, trained_run, name, content, expected):
    source = tmp_path / name
    source.write_bytes(content)
    output = tmp_path / "out.jsonl"
    expect_error(lambda: run(tmp_path, trained_run[0] / "model", source, output), expected)
    assert not output.exists()


def test_a_quoted_line_break_is_still_one_row(tmp_path, classified_run):
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text('text,n\n"paris\ntoday",1\nrome,2\n')
    run(tmp_path, classified_run[0] / "model", source, output)
    assert [(r["text"], r["n"]) for r in read_csv(output)] == [("paris\ntoday", "1"), ("rome", "2")]
