"""The deletion test of explanations (README: Outputs you can trust): remove the 3 words with the
highest attribution to a decision, or 3 words drawn at random, and count how often the decision
goes (a text's label changes; an entity is no longer found, same type and words).

  python scripts/explain_deletion.py --run RUN [--count 200] [--seed 0] [--out FILE.json]

RUN is a finished classification or NER run: its test texts come from RUN/predictions/test.csv
(the `text` column) or RUN/predictions/test.conll (sentences, words joined by spaces), and its
model from RUN/model. Texts of fewer than 4 words are skipped (3 removed would leave nothing).
Each text is read as its words joined by single spaces, before and after a deletion.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
from pathlib import Path

from rich.progress import track

from tunelab.data.conll import read_conll
from tunelab.data.words import split_words
from tunelab.inference.predictor import Predictor

REMOVED = 3


def test_texts(run: Path) -> list[str]:
    folder = run / "predictions"
    if (folder / "test.csv").is_file():
        with (folder / "test.csv").open(newline="", encoding="utf-8") as rows:
            texts = [row["text"] for row in csv.DictReader(rows)]
    else:
        texts = [" ".join(s.words) for s in read_conll(str(folder / "test.conll"), tag_column=-2)]
    return [" ".join(split_words(t)[0]) for t in texts if len(split_words(t)[0]) > REMOVED]


def without(words: list[str], drop: set[int]) -> str:
    return " ".join(w for i, w in enumerate(words) if i not in drop)


def top_words(decision: dict) -> set[int]:
    ranked = sorted(
        range(len(decision["words"])), key=lambda i: -decision["words"][i]["attribution"]
    )
    return set(ranked[:REMOVED])


def still_found(predictor: Predictor, text: str, decision: dict) -> bool:
    """Whether the decision survives in `text`: the same label, or the same entity."""
    (record,) = predictor.predict([text])
    if "entities" in record:
        return any(
            (e["type"], e["text"]) == (decision["type"], decision["text"])
            for e in record["entities"]
        )
    return record["label"] == decision["label"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, type=Path)
    parser.add_argument(
        "--count", type=int, default=200, help="decisions tested (texts or entities)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    predictor = Predictor(str(args.run / "model"), precision="32-true")
    texts = test_texts(args.run)
    rng.shuffle(texts)
    counts = {"decisions": 0, "top_removed_changed": 0, "random_removed_changed": 0}
    gaps = []
    progress = track(texts, description="deleting words", total=len(texts))
    for text in progress:
        if counts["decisions"] >= args.count:
            break
        (record,) = predictor.explain([text])
        decisions = record.get("entities", [record])
        if not decisions:
            continue  # an NER text without entities: nothing to explain
        decision = rng.choice(decisions)  # one a text: decisions spread over the split
        words = [w["word"] for w in decision["words"]]
        chosen_at_random = set(rng.sample(range(len(words)), REMOVED))
        counts["decisions"] += 1
        gaps.append(decision["completeness_gap"])
        counts["top_removed_changed"] += not still_found(
            predictor, without(words, top_words(decision)), decision
        )
        counts["random_removed_changed"] += not still_found(
            predictor, without(words, chosen_at_random), decision
        )
    n = counts["decisions"]
    result = {
        **counts,
        "top_removed_changed_share": counts["top_removed_changed"] / n,
        "random_removed_changed_share": counts["random_removed_changed"] / n,
        "completeness_gap_median": statistics.median(gaps),
        "completeness_gap_max": max(gaps),
        "run": str(args.run),
        "seed": args.seed,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
