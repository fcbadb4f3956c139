"""Find split files in a folder and load NER splits (folder or packaged corpus) as IOB2."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from tunelab.data import registry
from tunelab.data.conll import Sentence, read_conll
from tunelab.data.schemes import (
    SCHEMES,
    check_type_spelling,
    detect_scheme,
    to_iob2,
    upper_case_prefixes,
)
from tunelab.errors import TunelabError

log = logging.getLogger(__name__)

SPLIT_PREFIXES = {"train": ("train",), "dev": ("dev", "valid"), "test": ("test",)}


def find_split_file(directory: str | Path, split: str) -> Path:
    """The file for `split` in `directory`.

    An exact stem match wins (`test_long` -> `test_long.txt`); otherwise train*, dev* or valid*,
    test* are matched by prefix and must be unique.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise TunelabError(f"data folder {directory} does not exist")
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    exact = [p for p in files if p.stem == split]
    if len(exact) == 1:
        return exact[0]
    prefixes = SPLIT_PREFIXES.get(split, (split,))
    found = [p for p in files if p.name.lower().startswith(prefixes)]
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        pattern = " or ".join(f"{prefix}*" for prefix in prefixes)
        raise TunelabError(
            f"{directory}: expected one file matching {pattern} for split {split!r}, found {names}"
        )
    return found[0]


def _read_packaged(name: str, split: str) -> list[Sentence]:
    corpus, paths = registry.corpus_files(name)
    if split not in corpus.split_from:
        raise TunelabError(f"packaged corpus {name!r} has splits {', '.join(corpus.split_from)}")
    key, start, end = corpus.split_from[split]
    return registry.seeded_slice(read_conll(paths[key]), start, end)


@dataclass
class NerSplits:
    sentences: dict[str, list[Sentence]]
    scheme: str  # the scheme the files were written in (all are IOB2 now)
    repairs: dict[str, int] = field(default_factory=dict)  # invalid tags repaired, per split
    upper_cased: dict[str, int] = field(default_factory=dict)  # `b-X` prefixes made `B-X`


def load_ner_splits(
    splits: list[str], corpus: str | None = None, directory: str | None = None, scheme: str = "auto"
) -> NerSplits:
    """Read `splits` from a packaged corpus or a folder and convert them to IOB2 in place."""
    if (corpus is None) == (directory is None):
        raise TunelabError("set exactly one of data.corpus (packaged) or data.dir (a folder)")
    if scheme not in SCHEMES:
        raise TunelabError(f"data.scheme={scheme!r}; choose one of {', '.join(SCHEMES)}")
    data = {
        split: _read_packaged(corpus, split)
        if corpus
        else read_conll(find_split_file(directory, split))
        for split in splits
    }
    upper_cased = {}
    for split, sentences in data.items():
        upper_cased[split] = upper_case_prefixes(sentences)
        check_type_spelling(sentences)
        if upper_cased[split]:
            log.warning(
                "%s split: upper-cased %d lower-case tag prefix(es), e.g. b-LOC -> B-LOC",
                split,
                upper_cased[split],
            )
    if scheme == "auto":
        scheme = detect_scheme(s for sentences in data.values() for s in sentences)
        log.info("tag scheme detected: %s", scheme.upper())
    repairs = {}
    for split, sentences in data.items():
        repairs[split] = sum(to_iob2(sentence, scheme) for sentence in sentences)
        if repairs[split]:
            log.warning(
                "%s split: repaired %d invalid tag(s); rule: an I- tag that does not continue "
                "its entity starts a new one",
                split,
                repairs[split],
            )
    return NerSplits(data, scheme, repairs, upper_cased)
