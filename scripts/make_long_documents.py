"""Join each -DOCSTART- document of a CoNLL file into one long "sentence" (hundreds of words).

Evaluating a model on the result and on the original file scores the same words, once as
ordinary sentences and once as long documents that need sliding windows:

    .venv/bin/python scripts/make_long_documents.py ../shared/datasets/conll2003/test.txt \
        outputs/long_docs/test_long.txt
    tunelab-eval model_dir=RUN/model data=conll data.dir=outputs/long_docs split=test_long

With `--shuffle` the sentences are first put in a seeded random order, so each "document" joins
unrelated sentences without breaks (same document sizes as without it).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from tunelab.data.conll import by_document, read_conll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--shuffle", action="store_true", help="join unrelated sentences")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sentences = read_conll(args.source)
    groups = by_document([s.doc for s in sentences])
    if args.shuffle:
        order = list(range(len(sentences)))
        random.Random(args.seed).shuffle(order)
        sizes, groups, start = [len(g) for g in groups], [], 0
        for size in sizes:
            groups.append(order[start : start + size])
            start += size
    target = Path(args.target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lengths = []
    with target.open("w", encoding="utf-8") as out:
        for group in groups:
            document = [sentences[i] for i in group]
            words = [(w, t) for s in document for w, t in zip(s.words, s.tags, strict=True)]
            out.writelines(f"{w} {t}\n" for w, t in words)
            out.write("\n")
            lengths.append(len(words))
    print(f"{len(lengths)} documents, {sum(lengths)} words, longest {max(lengths)} words")


if __name__ == "__main__":
    main()
