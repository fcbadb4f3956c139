"""How many times as much neighbouring sentences of a CoNLL file share their content words as
sentences far apart (the running-text rule, `tunelab.data.windows.neighbour_ratio`), for the file
in its order and shuffled: python scripts/neighbour_ratio.py FILE [FILE ...]"""

from __future__ import annotations

import random
import sys

from tunelab.data.conll import read_conll
from tunelab.data.windows import IN_ORDER_RATIO, neighbour_ratio


def main() -> None:
    for path in sys.argv[1:]:
        words = [sentence.words for sentence in read_conll(path)]
        shuffled = list(words)
        random.Random(1).shuffle(shuffled)
        ratio = neighbour_ratio(words)
        verdict = "read in order" if ratio >= IN_ORDER_RATIO else "unrelated: not joined"
        print(
            f"{path}: {len(words)} sentences, ratio {ratio:.2f} ({verdict}); "
            f"shuffled {neighbour_ratio(shuffled):.2f}"
        )


if __name__ == "__main__":
    main()
