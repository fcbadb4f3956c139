"""`tunelab assistant`: answers, an "unsure" threshold chosen on dev, and an index of past
questions, saved in MODEL/assistant/; what they give on test is measured and reported."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from tunelab import schema
from tunelab.apps.assistant.answers import Assistant, read_answers
from tunelab.apps.assistant.index import QuestionIndex, retrieval_scores
from tunelab.config import build, hydra_command
from tunelab.errors import TunelabError
from tunelab.inference.eval import data_config
from tunelab.inference.predictor import Predictor
from tunelab.training.plots import bars
from tunelab.training.rundir import write_metrics
from tunelab.trust.abstain import answered_scores, threshold_for_precision

log = logging.getLogger("tunelab")
RANKS = 5  # retrieval is scored on the first five questions found


def confidences(records: list[dict], examples) -> tuple[np.ndarray, np.ndarray]:
    """Each text's top probability, and whether its top label is the gold one."""
    top = np.array([r["probabilities"][r["label"]] for r in records])
    correct = np.array([r["label"] == e.label for r, e in zip(records, examples, strict=True)])
    return top, correct


def confused_pairs(path: Path, records: list[dict], examples, shown: int = 15) -> Path:
    """A bar chart of the intent pairs most often mistaken for each other (gold -> predicted)."""
    mistaken = Counter(
        f"{e.label} -> {r['label']}"
        for r, e in zip(records, examples, strict=True)
        if r["label"] != e.label
    ).most_common(shown)
    names, counts = [name for name, _ in mistaken], [count for _, count in mistaken]
    title = f"The {len(names)} most confused intent pairs (test)"
    return bars(path, title, names, counts, "test questions")


def assistant(cfg: DictConfig) -> dict[str, float]:
    schema.check(cfg)
    target = cfg.unsure.precision
    if isinstance(target, bool) or not isinstance(target, float | int) or not 0 < target <= 1:
        raise TunelabError(f"unsure.precision={target!r}; give a share in (0, 1]")
    predictor = Predictor.from_config(cfg, max_chars=None)
    if predictor.task.embed_texts is None or getattr(predictor.module, "multi_label", False):
        raise TunelabError("tunelab assistant needs a single-label classification model")
    predictor.assistant = None  # the model's own predictions, not an earlier assistant's
    data = data_config(cfg, predictor.module.input_settings)
    datamodule = build(data, tokenizer=cfg.model_dir, labels=predictor.labels)
    labels = predictor.labels
    answers = read_answers(cfg.answers, labels) if cfg.answers else {}
    unanswered = [label for label in labels if label not in answers]
    if answers and unanswered:
        shown = ", ".join(unanswered[:5]) + (", ..." if len(unanswered) > 5 else "")
        log.warning("%d of %d intents have no answer: %s", len(unanswered), len(labels), shown)
    dev, test = datamodule.examples("dev"), datamodule.examples(datamodule.loader.test_split)
    predicted = {
        split: (examples, predictor.predict([e.text for e in examples]))
        for split, examples in (("dev", dev), ("test", test))
    }
    threshold = threshold_for_precision(*confidences(predicted["dev"][1], dev), target)
    metrics = {"threshold": threshold}
    for split, (examples, records) in predicted.items():
        scores = answered_scores(*confidences(records, examples), threshold)
        metrics.update({f"{split}/{key}": value for key, value in scores.items()})
    past = datamodule.examples(cfg.index_split)
    index = QuestionIndex.build(
        [e.text for e in past], [e.label for e in past], predictor.embed([e.text for e in past])
    )
    found = index.search(predictor.embed([e.text for e in test]), RANKS)
    intents = [[f["intent"] for f in hits] for hits in found]
    scores = retrieval_scores(intents, [e.label for e in test], ks=(1, RANKS))
    metrics.update({f"test/search_{key}": value for key, value in scores.items()})
    Assistant(answers, threshold, cfg.unsure.similar, index).save(cfg.model_dir, metrics)
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(run_dir / "metrics.json", metrics)
    confused_pairs(run_dir / "confused_intents.png", predicted["test"][1], test)
    print(
        f"unsure below {threshold:.4f} (dev precision {target:.2f}): test answers "
        f"{metrics['test/answered']:.1%} of questions at precision {metrics['test/precision']:.4f}"
        f"\nsearch, test against {len(past):,} {cfg.index_split} questions: recall@1 "
        f"{scores['recall@1']:.4f}, recall@{RANKS} {scores[f'recall@{RANKS}']:.4f}, "
        f"MRR {scores['mrr']:.4f}\nsaved in {Path(cfg.model_dir) / 'assistant'}"
    )
    return metrics


main = hydra_command("assistant", assistant)


if __name__ == "__main__":
    main()
