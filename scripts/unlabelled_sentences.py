"""Sentences without labels for a student to learn from its teacher (`tunelab distill ...
data.unlabelled=FILE`): the texts of a labelled preset's training split, cut into sentences and
into words the way CoNLL-2003 writes them (punctuation apart), one sentence a line.

    .venv/bin/python scripts/unlabelled_sentences.py --preset bbc_news --count 15000 \
        --out outputs/distill/bbc_sentences.txt

A seeded sample of the sentences of 5 to 40 words; the output file must not exist yet.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from tunelab.tasks.mlm.datamodule import preset_texts

# A regex is enough here: the file is teaching material for a student, not a gold tokenization.
# A sentence ends at . ! or ? (and a closing quote) before white space and a capital, unless the
# word before is a title or initials (Mr. Smith, U.S. firms).
SENTENCE_END = re.compile(r"[.!?][\"']?\s+(?=[A-Z\"'])")
NOT_AN_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Gov|Sen|Rep)|(?:\b[A-Za-z]\.)+[A-Za-z])$")
# words as CoNLL-2003 writes them: initials kept whole, punctuation apart
WORD = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Jr)\.|(?:[A-Za-z]\.){2,}|\w+(?:[-'.]\w+)*|[^\w\s]")


def split_sentences(text: str) -> list[str]:
    parts, start = [], 0
    for end in SENTENCE_END.finditer(text):
        if not NOT_AN_END.search(text[start : end.start()]):
            parts.append(text[start : end.end()])
            start = end.end()
    return parts + [text[start:]]


def sentences(texts: list[str], shortest: int = 5, longest: int = 40) -> list[str]:
    """Every sentence of `texts` with `shortest` to `longest` words, words joined by spaces."""
    found = []
    for text in texts:
        for sentence in split_sentences(text):
            words = WORD.findall(sentence)
            if shortest <= len(words) <= longest:
                found.append(" ".join(words))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="bbc_news")
    parser.add_argument("--count", type=int, default=15000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"--out {out}: exists already (a file is never overwritten)")
    found = sentences(preset_texts(args.preset, "train"))
    picked = random.Random(args.seed).sample(found, min(args.count, len(found)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{s}\n" for s in picked), encoding="utf-8")
    print(f"{out}: {len(picked)} of {len(found)} sentences of {args.preset}'s training texts")


if __name__ == "__main__":
    main()
