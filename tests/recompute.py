"""Scores recomputed from a run's prediction files by plain counting, independently of seqeval and
torchmetrics, so that a test can check every `test/*` score of metrics.json."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

NER_COUNTS = {
    "words_truncated",
    "tags_repaired",
    "tag_prefixes_upper_cased",
}  # test/* values that count, not score
CLASSIFICATION_COUNTS = {"texts_truncated"}


def chunks(tags: list[str], strict: bool) -> set[tuple[str, int, int]]:
    """(type, start, end) entities of IOB2 tags. conlleval's reading: an I-X that does not
    continue an X entity starts one; strict: only B-X starts one, such an I-X is no entity."""
    found, kind, start = set(), None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_kind = tag.partition("-")
        continues = prefix == "I" and tag_kind == kind
        if kind is not None and not continues:
            found.add((kind, start, i))
            kind = None
        if prefix == "B" or (prefix == "I" and not continues and not strict):
            kind, start = tag_kind, i
    return found


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def ner_scores_from_file(path: Path) -> dict[str, float]:
    """Micro precision/recall/F1 in both modes and per-type F1 (default mode) of a
    `word gold pred` file."""
    sentences = [block.split("\n") for block in path.read_text().strip().split("\n\n")]
    scores, per_type = {}, {}
    for suffix, strict in (("", False), ("_strict", True)):
        counts = Counter()
        for lines in sentences:
            gold = chunks([line.split(" ")[1] for line in lines], strict)
            pred = chunks([line.split(" ")[2] for line in lines], strict)
            for kind, *_ in gold & pred:
                counts["tp", kind] += 1
            for kind, *_ in pred - gold:
                counts["fp", kind] += 1
            for kind, *_ in gold - pred:
                counts["fn", kind] += 1
        kinds = {kind for _, kind in counts}
        totals = [sum(counts[side, kind] for kind in kinds) for side in ("tp", "fp", "fn")]
        p, r, score = f1(*totals)
        scores.update({f"precision{suffix}": p, f"recall{suffix}": r, f"f1{suffix}": score})
        if not strict:
            per_type = {
                f"f1_{kind}": f1(*(counts[side, kind] for side in ("tp", "fp", "fn")))[2]
                for kind in kinds
            }
    return {**scores, **per_type}


def classification_scores_from_file(
    path: Path, labels: list[str], separator: str | None = None
) -> dict[str, float]:
    """Accuracy (exact match), micro and macro F1 and per-class precision/recall/F1 of a
    `text,gold,pred,prob` file; `separator` joins the label sets of multi-label rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    def label_set(value: str) -> set[str]:
        return set(value.split(separator)) - {""} if separator else {value}

    pairs = [(label_set(row["gold"]), label_set(row["pred"])) for row in rows]
    scores = {"acc": sum(gold == pred for gold, pred in pairs) / len(pairs)}
    totals = Counter()
    per_class_f1 = []
    for label in labels:
        tp = sum(label in gold and label in pred for gold, pred in pairs)
        fp = sum(label not in gold and label in pred for gold, pred in pairs)
        fn = sum(label in gold and label not in pred for gold, pred in pairs)
        totals.update({"tp": tp, "fp": fp, "fn": fn})
        p, r, score = f1(tp, fp, fn)
        scores.update({f"precision_{label}": p, f"recall_{label}": r, f"f1_{label}": score})
        per_class_f1.append(score)
    scores["f1_micro"] = f1(totals["tp"], totals["fp"], totals["fn"])[2]
    scores["f1_macro"] = sum(per_class_f1) / len(per_class_f1)
    if not separator:  # single-label: calibrated, its probabilities in the file
        scores.update(calibration_from_file(rows, pairs))
    return scores


# Calibration figures whose probabilities are in no file (before temperature scaling; NER's
# entity confidences): checked to lie in [0, 1].
CALIBRATION = {"ece_before", "brier_before", "ece", "brier", "mean_confidence"}
INTERVAL = ("_ci95_low", "_ci95_high")


def assert_test_scores_recomputed(saved: dict, recomputed: dict, counts: set[str]) -> None:
    """Every `test/*` key of metrics.json is either recomputed (and equal), a known count, the
    uncalibrated calibration figures, or a bootstrap interval around a recomputed score."""
    import pytest

    test_keys = {key.removeprefix("test/") for key in saved if key.startswith("test/")}
    intervals = {key for key in test_keys if key.endswith(INTERVAL)}
    before = (test_keys & CALIBRATION) - set(recomputed)
    assert test_keys - counts - intervals - before == set(recomputed), "a test/* score unchecked"
    for key, value in recomputed.items():
        assert saved[f"test/{key}"] == pytest.approx(value, abs=1e-6), key
    for key in intervals:
        base = key.removesuffix(INTERVAL[0]).removesuffix(INTERVAL[1])
        low, high = (saved[f"test/{base}{end}"] for end in INTERVAL)
        assert low <= recomputed[base] + 1e-9 and recomputed[base] <= high + 1e-9, key
    assert all(0 <= saved[f"test/{key}"] <= 1 for key in before)


def calibration_from_file(rows: list[dict], pairs: list[tuple[set, set]]) -> dict[str, float]:
    """ECE (ten equal bins) and Brier score of the decisions' probabilities (`prob`)."""
    confidence = [float(row["prob"]) for row in rows]
    right = [gold == pred for gold, pred in pairs]
    bins: dict[int, list] = {}
    for c, r in zip(confidence, right, strict=True):
        bins.setdefault(min(int(c * 10), 9), []).append((c, r))
    ece = sum(
        abs(sum(r for _, r in inside) - sum(c for c, _ in inside)) / len(confidence)
        for inside in bins.values()
    )
    brier = sum((c - r) ** 2 for c, r in zip(confidence, right, strict=True)) / len(confidence)
    return {"ece": ece, "brier": brier, "mean_confidence": sum(confidence) / len(confidence)}


def assert_classification_run_recomputed(run_dir: Path, labels: list[str]) -> dict:
    """metrics.json of a classification run (or evaluation) against its predictions file;
    returns the saved metrics."""
    saved = json.loads((run_dir / "metrics.json").read_text())
    recomputed = classification_scores_from_file(run_dir / "predictions" / "test.csv", labels)
    assert_test_scores_recomputed(saved, recomputed, CLASSIFICATION_COUNTS)
    return saved


def predictions_agree_with_predict(run_dir: Path, tmp_path: Path) -> None:
    """`tunelab-predict` (fp32) with RUN/model labels the test texts as predictions/test.csv."""
    from tests.conftest import compose_train
    from tunelab.inference.predict import predict

    with (run_dir / "predictions" / "test.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    source, output = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_text("".join(r["text"] + "\n" for r in rows))
    overrides = [f"model_dir={run_dir / 'model'}", f"input={source}", f"output={output}"]
    predict(compose_train(tmp_path, [*overrides, "precision=32-true"], config_name="predict"))
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["label"] for r in records] == [r["pred"] for r in rows]
