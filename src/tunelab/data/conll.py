"""Reader for CoNLL-style NER files: one `word ... TAG` per line, blank line between sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tunelab.errors import CorpusError

DOCSTART = "-DOCSTART-"
# Columns are split on ASCII spaces and tabs only: a word may hold other Unicode spaces (NBSP).
# A stray byte-order mark (U+FEFF, left by concatenating files; WNUT-17's dev.txt has two) counts
# as a separator too: it is invisible and never part of a word.
COLUMN_SEPARATOR = re.compile(r"[ \t\ufeff]+")
BLANK = " \t\r\ufeff"


@dataclass
class Sentence:
    """One sentence as read from disk.

    Attributes:
        words: the words, as written.
        tags: one tag per word (converted to IOB2 after `schemes.to_iob2`).
        path: the file it came from, for error messages.
        lines: 1-based line number of each word in `path`.
        doc: index of the `-DOCSTART-` document it belongs to (0 when the file has none).
    """

    words: list[str]
    tags: list[str]
    path: str = "<memory>"
    lines: list[int] = field(default_factory=list)
    doc: int = 0


def read_conll(path: str | Path, with_tags: bool = True, tag_column: int = -1) -> list[Sentence]:
    """Read a CoNLL file: the word is the first column, the tag the last (spaces or tabs).

    With `with_tags=False` (raw words to label) only the first column is read and tags are `O`.
    `tag_column=-2` reads the gold column of a `word gold pred` file.

    Middle columns (POS, chunk) are ignored. Lines holding only whitespace end a sentence;
    `-DOCSTART-` lines start a new document and are not words. CRLF and a UTF-8 BOM are accepted.

    Raises:
        CorpusError: on an empty file, a line with a single column, or undecodable bytes.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise CorpusError(str(path), line, "not valid UTF-8") from None
    except OSError as err:
        raise CorpusError(str(path), None, f"cannot read file ({err.strerror})") from None

    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    lines: list[int] = []
    doc = 0

    def flush() -> None:
        if words:
            sentences.append(Sentence(list(words), list(tags), str(path), list(lines), doc))
            words.clear(), tags.clear(), lines.clear()

    # split("\n"), not splitlines(): the latter also breaks on U+2028, U+0085 and friends.
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip(BLANK)
        columns = COLUMN_SEPARATOR.split(stripped) if stripped else []
        if not columns:
            flush()
            continue
        if columns[0] == DOCSTART:
            flush()
            doc += 1
            continue
        if with_tags and len(columns) < 1 - tag_column:
            expected = "word ... TAG" if tag_column == -1 else "word ... GOLD PRED"
            raise CorpusError(
                str(path),
                number,
                f"expected '{expected}', found {len(columns)} column(s) {stripped!r}",
            )
        words.append(columns[0])
        tags.append(columns[tag_column] if with_tags else "O")
        lines.append(number)
    flush()
    if not sentences:
        raise CorpusError(str(path), None, "no sentences found (empty file?)")
    return sentences


def by_document(documents: list[int]) -> list[list[int]]:
    """Sentence indices grouped by document (each sentence's `doc`), documents in order of
    first appearance."""
    groups: dict[int, list[int]] = {}
    for index, document in enumerate(documents):
        groups.setdefault(document, []).append(index)
    return list(groups.values())
