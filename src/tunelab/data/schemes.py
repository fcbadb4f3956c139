"""Tag schemes: detect IOB1 / IOB2 / BIOES (also BMES, BILOU) and convert everything to IOB2.

Repair rule (IOB2 output): an inside tag (`I-X`, `M-X`, `E-X`) that does not continue an entity of
type X starts a new entity of type X, i.e. becomes `B-X`. This is how conlleval and seqeval's
default mode read such a tag, so the repair never changes default-mode scores of gold data; it makes
strict-mode scores meaningful. Each repair is counted and reported.
"""

from __future__ import annotations

from collections.abc import Iterable

from tunelab.data.conll import Sentence
from tunelab.errors import CorpusError

SCHEMES = ("auto", "iob1", "iob2", "bioes")
# Prefix sets accepted per scheme; BMES (M) and BILOU (L, U) are read as BIOES.
PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIMESLU"}
INSIDE = {"I", "M", "E", "L"}
ALL_PREFIXES = "BIESLUM"


def split_tag(tag: str) -> tuple[str, str]:
    """Split `B-PER` into (`B`, `PER`); `O` gives (`O`, ``). Types may contain dashes; a prefix
    may be lower-case (`b-PER`, counted by `upper_case_prefixes`)."""
    if tag == "O":
        return "O", ""
    if tag[:2].upper() == "O-":
        raise ValueError(f"tag {tag!r}: O takes no type (write O, or B-{tag[2:]} / I-{tag[2:]})")
    if len(tag) < 3 or tag[1] != "-" or tag[0].upper() not in ALL_PREFIXES:
        raise ValueError(
            f"tag {tag!r} is neither 'O' nor PREFIX-TYPE with a prefix of "
            f"{', '.join(ALL_PREFIXES)} (e.g. B-PER)"
        )
    return tag[0].upper(), tag[2:]


def upper_case_prefixes(sentences: Iterable[Sentence]) -> int:
    """Upper-case lower-case tag prefixes in place (`b-LOC` -> `B-LOC`); returns how many."""
    changed = 0
    for sentence in sentences:
        for i, tag in enumerate(sentence.tags):
            if tag[:1].islower() and tag[1:2] == "-":
                sentence.tags[i] = tag[0].upper() + tag[1:]
                changed += 1
    return changed


def check_type_spelling(sentences: Iterable[Sentence]) -> None:
    """Refuse entity types that differ only in case (`ORG` and `org`): two spellings of one type
    would be scored as two types.

    Raises:
        CorpusError: at the first word whose type is a second spelling, naming the first.
    """
    first: dict[str, tuple[str, str, int | None]] = {}
    for sentence in sentences:
        for i, (_, kind) in enumerate(_parsed(sentence)):
            seen = first.setdefault(kind.casefold(), (kind, sentence.path, _line(sentence, i)))
            if seen[0] != kind:
                raise CorpusError(
                    sentence.path,
                    _line(sentence, i),
                    f"entity type {kind!r} differs only in case from {seen[0]!r} "
                    f"({seen[1]}:{seen[2]}); write one spelling",
                )


def _parsed(sentence: Sentence) -> list[tuple[str, str]]:
    parsed = []
    for i, tag in enumerate(sentence.tags):
        try:
            parsed.append(split_tag(tag))
        except ValueError as err:
            raise CorpusError(sentence.path, _line(sentence, i), str(err)) from None
    return parsed


def _line(sentence: Sentence, i: int) -> int | None:
    return sentence.lines[i] if i < len(sentence.lines) else None


def detect_scheme(sentences: Iterable[Sentence]) -> str:
    """Guess the scheme of a corpus.

    BIOES if any E-/S-/M-/L-/U- prefix occurs; IOB1 if some I- tag opens an entity and every B- tag
    directly follows a tag of its own type (B- only separates touching entities); IOB2 otherwise.
    """
    i_opens = False
    b_only_between = True
    for sentence in sentences:
        previous = ("O", "")
        for prefix, kind in _parsed(sentence):
            if prefix in "MESLU":
                return "bioes"
            if prefix == "I" and previous[1] != kind:
                i_opens = True
            if prefix == "B" and previous[1] != kind:
                b_only_between = False
            previous = (prefix, kind)
    return "iob1" if i_opens and b_only_between else "iob2"


def to_iob2(sentence: Sentence, scheme: str) -> int:
    """Convert `sentence.tags` in place from `scheme` to IOB2 and return the number of repairs.

    Raises:
        CorpusError: a tag that is malformed or whose prefix the scheme does not have.
    """
    allowed = PREFIXES[scheme]
    repairs = 0
    previous_kind = ""  # type of the entity the previous word belongs to ("" = outside)
    previous_closed = True  # the previous word ended its entity (E-/S-/U- in BIOES)
    for i, (prefix, kind) in enumerate(_parsed(sentence)):
        if prefix == "O":
            sentence.tags[i], previous_kind, previous_closed = "O", "", True
            continue
        if prefix not in allowed:
            raise CorpusError(
                sentence.path,
                _line(sentence, i),
                f"tag {sentence.tags[i]!r} is not valid in the {scheme.upper()} scheme",
            )
        continues = kind == previous_kind and not previous_closed
        if prefix in INSIDE:
            if continues:
                new = f"I-{kind}"
            else:
                new = f"B-{kind}"
                # IOB1 opens entities with I- by design; anywhere else this is a repair.
                repairs += scheme != "iob1"
        else:  # B, S, U
            new = f"B-{kind}"
        sentence.tags[i] = new
        previous_kind = kind
        previous_closed = prefix in "ESLU" and scheme == "bioes"
    return repairs
