"""Raw text cut into words, with their character offsets: how NER input and explanations see it."""

from __future__ import annotations

import re

from tunelab.data.alignment import CJK

LETTERS = rf"[^\W{CJK}]"  # \w without CJK characters
# Words as the corpora cut them: each CJK character; a run of letters/digits (with inner ' or -);
# any other symbol.
WORD = re.compile(rf"[{CJK}]|{LETTERS}+(?:['’-]{LETTERS}+)*|[^\w\s]")


def split_words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Words of `text` and their [start, end) character offsets."""
    matches = list(WORD.finditer(text))
    return [m.group() for m in matches], [m.span() for m in matches]
