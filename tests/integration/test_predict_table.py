"""tunelab-predict on tables: every input column kept, prediction columns added, bad rows named,
skipped only on request and counted; stdin and stdout as `-`."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys

import pytest

from tests.conftest import compose_train
from tunelab.errors import TunelabError
from tunelab.inference.predict import predict
from tunelab.inference.predictor import Predictor

TEXTS = ["john lives in paris", "mary works for acme in london", ".", "rome"]


def run(tmp_path, model_dir, source, output, *overrides):
    cfg = compose_train(
        tmp_path,
        [f"model_dir={model_dir}", f"input={source}", f"output={output}", *overrides],
        config_name="predict",
    )
    predict(cfg)


def write_csv(path, rows, header=("id", "text", "note")):
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def read_csv(path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_ner_csv_keeps_columns_and_adds_entities(tmp_path, trained_run):
    model_dir = trained_run[0] / "model"
    source, output = tmp_path / "in.csv", tmp_path / "out" / "labelled.csv"
    write_csv(source, [[i, text, f'say "{i}", ok'] for i, text in enumerate(TEXTS)])
    run(tmp_path, model_dir, source, output, "precision=32-true")
    rows = read_csv(output)
    assert list(rows[0]) == ["id", "text", "note", "entities"]
    assert [(r["id"], r["text"], r["note"]) for r in rows] == [
        (str(i), text, f'say "{i}", ok') for i, text in enumerate(TEXTS)
    ]
    expected = Predictor(str(model_dir), precision="32-true").predict(TEXTS)
    assert [json.loads(r["entities"]) for r in rows] == [e["entities"] for e in expected]
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]


def test_classification_tsv_to_jsonl_and_gzip(tmp_path, classified_run):
    model_dir = classified_run[0] / "model"
    lines = ["label\ttext\textra", *(f"x\t{t}\t{i}" for i, t in enumerate(TEXTS))]
    source = tmp_path / "in.tsv.gz"
    source.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    output = tmp_path / "out.jsonl"
    run(tmp_path, model_dir, source, output, "precision=32-true")
    records = [json.loads(line) for line in output.read_text().splitlines()]
    expected = Predictor(str(model_dir), precision="32-true").predict(TEXTS)
    assert [r["pred"] for r in records] == [e["label"] for e in expected]
    for record, want in zip(records, expected, strict=True):
        assert record["label"] == "x" and record["text"] in TEXTS
        probs = {k.removeprefix("prob_"): v for k, v in record.items() if k.startswith("prob_")}
        assert probs == want["probabilities"]


def test_stdin_to_stdout(tmp_path, classified_run, monkeypatch, capsys):
    body = "".join(json.dumps({"text": t, "n": i}) + "\n" for i, t in enumerate(TEXTS))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body.encode())))
    run(tmp_path, classified_run[0] / "model", "-", "-", "table=jsonl")
    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["text"], r["n"]) for r in records] == [(t, i) for i, t in enumerate(TEXTS)]
    assert all("pred" in r for r in records)


def bad_table(path):
    path.write_bytes(
        b'{"text": "john lives in rome"}\n'
        b'{"text": null}\n'
        b"not json\n"
        b'{"text": "par\xffis"}\n'
        b'{"text": 3}\n'
        b'{"text": "mary", "other": 1}\n'
    )


def test_a_bad_row_stops_the_run_naming_its_line(tmp_path, trained_run):
    source, output = tmp_path / "in.jsonl", tmp_path / "out.csv"
    bad_table(source)
    with pytest.raises(TunelabError, match=r"in\.jsonl:2: 'text' holds no value.*skip_bad_rows"):
        run(tmp_path, trained_run[0] / "model", source, output)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))) == []


def test_skip_bad_rows_skips_names_and_counts(tmp_path, trained_run, caplog):
    source, output = tmp_path / "in.jsonl", tmp_path / "out.csv"
    bad_table(source)
    with caplog.at_level("WARNING", logger="tunelab"):
        run(tmp_path, trained_run[0] / "model", source, output, "skip_bad_rows=true")
    assert [r["text"] for r in read_csv(output)] == ["john lives in rome"]
    for line, problem in [
        (2, "holds no value"),
        (3, "invalid JSON"),
        (4, "not valid UTF-8"),
        (5, "holds a number"),
        (6, "'other' not in the first row's columns"),
    ]:
        assert f"in.jsonl:{line}: " in caplog.text and problem in caplog.text
    assert "skipped 5 bad row(s)" in caplog.text


@pytest.mark.parametrize(
    "header, name, expected",
    [
        (("id", "body"), "in.csv", "in.csv:2: no column 'text'; columns are id, body (set text_"),
        (("id", "text", "entities"), "in.csv", "column(s) 'entities' would be overwritten"),
        (("id", "text"), "-", "input=- reads a table from stdin: give table=csv, tsv or jsonl"),
    ],
)
def test_column_mistakes_are_one_line(tmp_path, trained_run, header, name, expected):
    source = tmp_path / "in.csv"
    write_csv(source, [["1", "john", "x"][: len(header)]], header)
    source = source if name != "-" else name
    with pytest.raises(TunelabError) as caught:
        run(tmp_path, trained_run[0] / "model", source, tmp_path / "out.csv")
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_text_column_names_the_column(tmp_path, trained_run):
    source, output = tmp_path / "in.csv", tmp_path / "out.tsv"
    write_csv(source, [["1", "john lives in paris"]], ("id", "body"))
    run(tmp_path, trained_run[0] / "model", source, output, "text_column=body")
    header, row = output.read_text().splitlines()
    assert header == "id\tbody\tentities" and row.startswith("1\tjohn lives in paris\t[")


def test_an_unwritable_output_is_one_line_and_closes_the_input(tmp_path, trained_run, monkeypatch):
    from tunelab.data import table_stream

    closed = []
    real_close = table_stream.TableReader.close
    monkeypatch.setattr(
        table_stream.TableReader, "close", lambda self: closed.append(1) or real_close(self)
    )
    source, blocker = tmp_path / "in.csv", tmp_path / "a-file"
    write_csv(source, [["1", "john", "x"]])
    blocker.write_text("not a folder")
    with pytest.raises(TunelabError, match=r"^output=.*a-file/out\.csv: cannot write there"):
        run(tmp_path, trained_run[0] / "model", source, blocker / "out.csv")
    assert closed == [1]
