"""Raw, unlabelled text for masked-LM training: .txt (one document or paragraph a line, blank
lines ignored), or the text column of a .jsonl, .csv or .tsv table; any of them .gz or .bz2."""

from __future__ import annotations

from pathlib import Path

from tunelab.data import registry
from tunelab.data.lines import read_lines
from tunelab.data.splits import SPLIT_PREFIXES, find_split_file
from tunelab.data.tables import FORMATS, read_table
from tunelab.errors import CorpusError, TunelabError


def read_texts(path: str | Path, text_column: str = "text", errors: str = "strict") -> list[str]:
    """The texts of one file, in file order, blank ones left out.

    Raises:
        CorpusError: a file that holds no text, is not UTF-8 or is a malformed table, naming
            the file (and the line where there is one).
    """
    path = Path(path)
    formats = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2")]
    if formats and formats[-1] in FORMATS:
        texts = [row.text.strip() for row in read_table(path, text_column, None, skip_empty=True)]
    else:
        texts = [line.strip() for line in read_lines(path, errors) if line.strip()]
    if not texts:
        raise CorpusError(str(path), None, "holds no text (empty corpus)")
    return texts


def has_split(directory: str | Path, split: str) -> bool:
    directory = Path(directory)
    prefixes = SPLIT_PREFIXES.get(split, (split,))
    return directory.is_dir() and any(
        p.is_file() and not p.name.startswith(".") and p.name.lower().startswith(prefixes)
        for p in directory.iterdir()
    )


def folder_texts(
    directory: str | Path,
    split: str,
    text_column: str = "text",
    dev_fraction: float = 0.01,
    errors: str = "strict",
) -> list[str]:
    """The texts of `split` (train, dev, test) in a folder of train*, dev*/valid*, test* files.

    Without a dev file, dev is a fixed, seeded `dev_fraction` of the training texts (at least
    one) and train the rest; without a test file, test is dev.
    """
    if split == "test" and not has_split(directory, "test"):
        split = "dev"
    if split == "train" or (split == "dev" and not has_split(directory, "dev")):
        texts = read_texts(find_split_file(directory, "train"), text_column, errors)
        if has_split(directory, "dev"):
            return texts
        if len(texts) < 2:
            raise CorpusError(
                str(find_split_file(directory, "train")),
                None,
                "holds one text: too little to hold out a dev split (add a dev* file)",
            )
        cut = max(1 / len(texts), dev_fraction)
        return (
            registry.seeded_slice(texts, 0, cut)
            if split == "dev"
            else (registry.seeded_slice(texts, cut, 1))
        )
    if split not in SPLIT_PREFIXES:
        raise TunelabError(f"text data has splits train, dev, test, not {split!r}")
    return read_texts(find_split_file(directory, split), text_column, errors)
