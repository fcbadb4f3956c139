"""tunelab-eval on checkpoints and exported models; tunelab-predict on raw text and CoNLL words."""

import json

import pytest

from tests.conftest import compose_train, eval_config, write_conll
from tests.recompute import NER_COUNTS, assert_test_scores_recomputed, ner_scores_from_file
from tunelab.data.conll import read_conll
from tunelab.data.words import split_words
from tunelab.errors import TunelabError
from tunelab.inference.eval import evaluate
from tunelab.inference.predict import predict


@pytest.mark.parametrize("source", ["ckpt_path", "model_dir"])
def test_eval_reproduces_training_test_scores(tmp_path, trained_run, source):
    run_dir, train_metrics, conll_dir = trained_run
    path = run_dir / ("checkpoints/best.ckpt" if source == "ckpt_path" else "model")
    cfg = eval_config(tmp_path, conll_dir, f"{source}={path}")
    metrics = evaluate(cfg)
    assert metrics["test/f1"] == pytest.approx(train_metrics["test/f1"], abs=1e-12)
    assert (
        0
        < metrics["time/test_seconds"]
        == json.loads((tmp_path / "metrics.json").read_text())["time/test_seconds"]
    )
    assert (tmp_path / "predictions" / "test.conll").read_text() == (
        run_dir / "predictions" / "test.conll"
    ).read_text()


def test_eval_other_split_by_file_stem(tmp_path, trained_run):
    run_dir, _, conll_dir = trained_run
    cfg = eval_config(tmp_path, conll_dir, f"model_dir={run_dir / 'model'}", "split=dev")
    evaluate(cfg)
    assert (tmp_path / "predictions" / "dev.conll").is_file()


def test_split_words_keeps_offsets():
    text = "John's trip to New-York, today!"
    words, offsets = split_words(text)
    assert words == ["John's", "trip", "to", "New-York", ",", "today", "!"]
    assert all(text[a:b] == w for w, (a, b) in zip(words, offsets, strict=False))


def test_chinese_and_japanese_are_split_by_character():
    """As MSRA and the Japanese corpora are labelled: each character a word, so that each
    entity of a clause can come out."""
    text = "我在北京见到了李明。 東京タワー, Tokyo-3 OK"
    words, offsets = split_words(text)
    assert words[:10] == ["我", "在", "北", "京", "见", "到", "了", "李", "明", "。"]
    assert words[10:] == ["東", "京", "タ", "ワ", "ー", ",", "Tokyo-3", "OK"]
    assert all(text[a:b] == w for w, (a, b) in zip(words, offsets, strict=True))


def test_predict_text_lines(tmp_path, trained_run):
    run_dir, _, _ = trained_run
    source = tmp_path / "in.txt"
    source.write_text("john went to new york .\n\nmary works for acme\n")
    cfg = compose_train(
        tmp_path,
        [f"model_dir={run_dir / 'model'}", f"input={source}", f"output={tmp_path / 'out.jsonl'}"],
        config_name="predict",
    )
    predict(cfg)
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == ["john went to new york .", "", "mary works for acme"]
    assert records[1]["entities"] == []
    for record in records:
        for entity in record["entities"]:
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]
            assert 0.0 < entity["score"] <= 1.0 and entity["type"] in {"PER", "LOC", "ORG"}
    assert any(e["type"] == "PER" for r in records for e in r["entities"])


def test_predict_conll_words(tmp_path, trained_run):
    run_dir, _, _ = trained_run
    source = tmp_path / "words.txt"
    source.write_text("john\nwent\nto\nparis\n\nanna\n")
    cfg = compose_train(
        tmp_path,
        [
            f"model_dir={run_dir / 'model'}",
            f"input={source}",
            "format=conll",
            f"output={tmp_path / 'out.conll'}",
        ],
        config_name="predict",
    )
    predict(cfg)
    lines = (tmp_path / "out.conll").read_text().split("\n")
    assert [line.split(" ")[0] for line in lines if line] == ["john", "went", "to", "paris", "anna"]


def test_eval_with_argmax_decoding(tmp_path, trained_run):
    run_dir, _, conll_dir = trained_run
    cfg = eval_config(tmp_path, conll_dir, f"model_dir={run_dir / 'model'}", "decode=argmax")
    recomputed = evaluate(cfg)
    scores = ner_scores_from_file(tmp_path / "predictions" / "test.conll")
    assert_test_scores_recomputed(recomputed, scores, NER_COUNTS)
    cfg.decode = "beam"
    with pytest.raises(TunelabError, match="decode='beam'; choose one of viterbi, argmax"):
        evaluate(cfg)


@pytest.mark.parametrize("windows", [True, False])
def test_3000_word_document_gets_one_prediction_per_word(tmp_path, trained_run, windows):
    run_dir, _, conll_dir = trained_run
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in ["train.txt", "dev.txt", "test.txt"]:
        (data_dir / name).write_text((conll_dir / name).read_text())
    sentences = read_conll(conll_dir / "train.txt")
    pairs = [(w, t) for s in sentences for w, t in zip(s.words, s.tags, strict=True)]
    words = (pairs * (3000 // len(pairs) + 1))[:3000]
    write_conll(data_dir / "test_long.txt", [words])
    cfg = eval_config(
        tmp_path / "run",
        data_dir,
        f"model_dir={run_dir / 'model'}",
        "split=test_long",
        "data.max_length=64",
        "data.stride=16",
        f"data.windows={windows}",
    )
    metrics = evaluate(cfg)
    lines = (tmp_path / "run" / "predictions" / "test_long.conll").read_text().split("\n")
    triples = [line.split(" ") for line in lines if line]
    assert [(w, g) for w, g, _ in triples] == words  # every word, once, in order
    assert len(triples) == 3000
    if windows:
        assert metrics["test/words_truncated"] == 0
        # Same words as short sentences score alike: windows lose no entity.
        assert metrics["test/f1"] > 0.5
    else:
        assert metrics["test/words_truncated"] == 3000 - 62  # 64 minus [CLS] and [SEP]


def test_score_a_predictions_file_alone(tmp_path, trained_run):
    run_dir, metrics, _ = trained_run
    cfg = compose_train(
        tmp_path, [f"predictions={run_dir / 'predictions' / 'test.conll'}"], config_name="eval"
    )
    scored = evaluate(cfg)
    assert scored["test/f1"] == pytest.approx(metrics["test/f1"], abs=1e-12)
    assert scored["test/f1_strict"] == pytest.approx(metrics["test/f1_strict"], abs=1e-12)
    assert (tmp_path / "report.txt").is_file()


def test_predictions_file_needs_three_columns(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("john B-PER B-PER\nwent O\n")
    cfg = compose_train(tmp_path, [f"predictions={path}"], config_name="eval")
    with pytest.raises(TunelabError, match=r"p.txt:2: expected 'word ... GOLD PRED'"):
        evaluate(cfg)
