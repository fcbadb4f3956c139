"""NER's run-directory files: predictions/<split>.conll and the seqeval report."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from tunelab.data.conll import Sentence, read_conll
from tunelab.data.schemes import (
    check_type_spelling,
    detect_scheme,
    to_iob2,
    upper_case_prefixes,
)
from tunelab.tasks.ner.metrics import ner_report, ner_scores
from tunelab.training import plots

log = logging.getLogger(__name__)


def write_conll_predictions(
    path: Path, sentences: list[Sentence], predictions: dict[int, list[str]]
) -> None:
    """`word gold pred` per line, a blank line between sentences, in input order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for index in sorted(predictions):
            sentence = sentences[index]
            for word, gold, pred in zip(
                sentence.words, sentence.tags, predictions[index], strict=True
            ):
                out.write(f"{word} {gold} {pred}\n")
            out.write("\n")


def write_outputs(run_dir: Path, module, datamodule, split: str) -> str:
    """predictions/<split>.conll and report.txt of the module's last test; returns the report."""
    sentences, predictions = datamodule.sentences(split), module.evaluation("test").predictions
    if len(predictions) < len(sentences):
        log.warning(
            "%d of %d %s sentences were predicted (limited batches); files cover those only",
            len(predictions),
            len(sentences),
            split,
        )
    write_conll_predictions(run_dir / "predictions" / f"{split}.conll", sentences, predictions)
    order = sorted(predictions)
    gold, pred = [sentences[i].tags for i in order], [predictions[i] for i in order]
    report = ner_report(gold, pred)
    (run_dir / "report.txt").write_text(report)
    draw_pictures(run_dir, gold, pred)
    return report


def draw_pictures(run_dir: Path, gold: list[list[str]], pred: list[list[str]]) -> None:
    """plots/per_type_f1.png (the test split's F1 per entity type) and plots/confused_tags.png
    (the ten most frequent (gold, predicted) word-tag pairs that differ)."""
    scores = ner_scores(gold, pred)
    types = sorted(
        k.removeprefix("f1_") for k in scores if k.startswith("f1_") and k != "f1_strict"
    )
    folder = run_dir / plots.FOLDER
    if types:
        values = [scores[f"f1_{t}"] for t in types]
        plots.bars(folder / "per_type_f1.png", "test F1 per entity type", types, values, "F1")
    confused = Counter(
        f"{g} -> {p}"
        for tags, guessed in zip(gold, pred, strict=True)
        for g, p in zip(tags, guessed, strict=True)
        if g != p
    ).most_common(10)
    if confused:
        names, counts = zip(*confused, strict=True)
        title = "most confused tags (gold -> predicted), test words"
        plots.bars(folder / "confused_tags.png", title, list(names), list(counts), "words")


def score_file(path: str, scheme: str, run_dir: Path) -> tuple[dict[str, float], str, str]:
    """Score a `word gold pred` file (any system's output) as conlleval would, in both modes;
    writes report.txt into `run_dir`; returns the metrics, the report and a note on repairs."""
    gold, pred = read_conll(path, tag_column=-2), read_conll(path, tag_column=-1)
    upper_cased = upper_case_prefixes(gold) + upper_case_prefixes(pred)
    check_type_spelling([*gold, *pred])
    if scheme == "auto":
        scheme = detect_scheme(gold)
    repairs = {"gold": sum(to_iob2(s, scheme) for s in gold)}
    repairs["pred"] = sum(to_iob2(s, scheme) for s in pred)
    gold_tags, pred_tags = [s.tags for s in gold], [s.tags for s in pred]
    metrics = {f"test/{key}": value for key, value in ner_scores(gold_tags, pred_tags).items()}
    metrics.update({f"test/tags_repaired_{side}": count for side, count in repairs.items()})
    metrics["test/tag_prefixes_upper_cased"] = upper_cased
    run_dir.mkdir(parents=True, exist_ok=True)
    report = ner_report(gold_tags, pred_tags)
    (run_dir / "report.txt").write_text(report)
    note = f"tags repaired: gold {repairs['gold']}, pred {repairs['pred']}"
    return metrics, report, note + f"; tag prefixes upper-cased: {upper_cased}"
