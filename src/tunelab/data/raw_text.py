"""Raw, unlabelled text for masked-LM training: .txt (one document or paragraph a line, blank
lines ignored), or the text column of a .jsonl, .csv or .tsv table; any of them .gz or .bz2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tunelab.data import registry
from tunelab.data.lines import iter_lines
from tunelab.data.splits import SPLIT_PREFIXES, find_split_file
from tunelab.data.tables import FORMATS, iter_table
from tunelab.errors import CorpusError, TunelabError

EMPTY = "holds no text (empty corpus)"


def iter_texts(
    path: str | Path, text_column: str = "text", errors: str = "strict"
) -> Iterator[str]:
    """The texts of one file, in file order, blank ones left out, read as they are needed (a
    file of any size in constant memory)."""
    path = Path(path)
    formats = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2")]
    if formats and formats[-1] in FORMATS:
        rows = (row.text for row in iter_table(path, text_column, None, skip_empty=True))
    else:
        rows = iter_lines(path, errors)
    for row in rows:
        if text := row.strip():
            yield text


def read_texts(path: str | Path, text_column: str = "text", errors: str = "strict") -> list[str]:
    """The texts of one file, in file order, blank ones left out.

    Raises:
        CorpusError: a file that holds no text, is not UTF-8 or is a malformed table, naming
            the file (and the line where there is one).
    """
    texts = list(iter_texts(path, text_column, errors))
    if not texts:
        raise CorpusError(str(path), None, EMPTY)
    return texts


class SplitTexts:
    """The texts of one split of a text folder, read from its file each time they are iterated:
    a corpus of any size in constant memory. `share`: only this seeded share [start, end) of
    the file's texts (`registry.seeded_slice`'s), for a dev split held out of the training file.
    """

    def __init__(self, path: Path, text_column: str, errors: str, share=None) -> None:
        self.path, self.text_column, self.errors, self.share = path, text_column, errors, share
        self._chosen = None

    def _texts(self) -> Iterator[str]:
        return iter_texts(self.path, self.text_column, self.errors)

    def __iter__(self) -> Iterator[str]:
        if self.share is None:
            empty = True
            for text in self._texts():
                empty = False
                yield text
            if empty:
                raise CorpusError(str(self.path), None, EMPTY)
            return
        if self._chosen is None:
            count = sum(1 for _ in self._texts())
            if count < 2:
                why = "holds one text: too little to hold out a dev split (add a dev* file)"
                raise CorpusError(str(self.path), None, why if count else EMPTY)
            start, end = self.share
            self._chosen = registry.seeded_share(
                count, *(max(1 / count, x) if x else 0 for x in (start, end))
            )
        for keep, text in zip(self._chosen, self._texts(), strict=True):
            if keep:
                yield text


def has_split(directory: str | Path, split: str) -> bool:
    directory = Path(directory)
    prefixes = SPLIT_PREFIXES.get(split, (split,))
    return directory.is_dir() and any(
        p.is_file() and not p.name.startswith(".") and p.name.lower().startswith(prefixes)
        for p in directory.iterdir()
    )


def folder_split(
    directory: str | Path,
    split: str,
    text_column: str = "text",
    dev_fraction: float = 0.01,
    errors: str = "strict",
) -> SplitTexts:
    """The texts of `split` (train, dev, test) in a folder of train*, dev*/valid*, test* files,
    read from the file each time they are iterated.

    Without a dev file, dev is a fixed, seeded `dev_fraction` of the training texts (at least
    one) and train the rest; without a test file, test is dev.
    """
    if split == "test" and not has_split(directory, "test"):
        split = "dev"
    if split not in SPLIT_PREFIXES:
        raise TunelabError(f"text data has splits train, dev, test, not {split!r}")
    share = None
    if split == "train" or (split == "dev" and not has_split(directory, "dev")):
        if not has_split(directory, "dev"):
            share = (0, dev_fraction) if split == "dev" else (dev_fraction, 1)
        split = "train"
    return SplitTexts(find_split_file(directory, split), text_column, errors, share)
