"""Texts without labels for a student to learn from its teacher alone (`data.unlabelled`,
`tunelab distill`): a UTF-8 text file, one text a line."""

from __future__ import annotations

from pathlib import Path

from tunelab.data.alignment import UNLABELLED
from tunelab.errors import CorpusError, TunelabError


def read_unlabelled(path: str) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line of `path`, stripped."""
    file = Path(path)
    if not file.is_file():
        raise TunelabError(f"data.unlabelled={path}: no such file (a text file, one text a line)")
    texts = []
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError as err:
                raise CorpusError(str(file), number, f"not UTF-8 ({err.reason})") from None
            if text:
                texts.append((number, text))
    if not texts:
        raise TunelabError(f"data.unlabelled={path}: no texts (every line is blank)")
    return texts


def check_taught(labels, teacher: list) -> None:
    """One line when a batch holds texts without labels but no teacher would teach them."""
    if not teacher and bool((labels == UNLABELLED).any()):
        raise TunelabError(
            "data.unlabelled: texts without labels are learnt from a teacher alone; "
            "use tunelab distill teacher=RUN/model"
        )
