import pytest

from tunelab.data.conll import Sentence
from tunelab.data.schemes import (
    check_type_spelling,
    detect_scheme,
    split_tag,
    to_iob2,
    upper_case_prefixes,
)
from tunelab.errors import CorpusError


def sent(*tags: str) -> Sentence:
    return Sentence(["w"] * len(tags), list(tags), "f.txt", list(range(1, len(tags) + 1)))


@pytest.mark.parametrize(
    "tags, scheme",
    [
        (["B-PER", "I-PER", "O", "B-LOC"], "iob2"),
        (["I-PER", "I-PER", "B-PER", "O", "I-LOC"], "iob1"),
        (["I-PER", "O"], "iob1"),
        (["S-PER", "O", "B-LOC", "E-LOC"], "bioes"),
        (["B-ORG", "M-ORG", "E-ORG"], "bioes"),  # BMES
        (["O", "I-PER", "O", "B-LOC"], "iob2"),  # broken IOB2, not IOB1
    ],
)
def test_detect(tags, scheme):
    assert detect_scheme([sent(*tags)]) == scheme


@pytest.mark.parametrize(
    "tags, scheme, expected, repairs",
    [
        (
            ["I-PER", "I-PER", "B-PER", "O", "I-LOC"],
            "iob1",
            ["B-PER", "I-PER", "B-PER", "O", "B-LOC"],
            0,
        ),
        (
            ["S-PER", "B-LOC", "I-LOC", "E-LOC", "O"],
            "bioes",
            ["B-PER", "B-LOC", "I-LOC", "I-LOC", "O"],
            0,
        ),
        (["B-ORG", "M-ORG", "E-ORG", "S-ORG"], "bioes", ["B-ORG", "I-ORG", "I-ORG", "B-ORG"], 0),
        (
            ["O", "I-PER", "I-LOC", "B-LOC", "I-LOC"],
            "iob2",
            ["O", "B-PER", "B-LOC", "B-LOC", "I-LOC"],
            2,
        ),
        (["S-PER", "I-PER"], "bioes", ["B-PER", "B-PER"], 1),  # nothing to continue after S-
        (["B-geo-loc", "I-geo-loc"], "iob2", ["B-geo-loc", "I-geo-loc"], 0),
    ],
)
def test_to_iob2(tags, scheme, expected, repairs):
    sentence = sent(*tags)
    assert to_iob2(sentence, scheme) == repairs
    assert sentence.tags == expected


def test_prefix_outside_scheme_names_line():
    with pytest.raises(CorpusError, match=r"f.txt:2: tag 'E-PER' is not valid in the IOB2 scheme"):
        to_iob2(sent("B-PER", "E-PER"), "iob2")


@pytest.mark.parametrize("tag", ["PER", "B_PER", "B-", "X"])
def test_malformed_tag_names_line(tag):
    with pytest.raises(CorpusError, match=r"f.txt:2: tag .* neither 'O' nor PREFIX-TYPE"):
        to_iob2(sent("O", tag), "iob2")


def test_split_tag_keeps_dashes_in_type():
    assert split_tag("B-creative-work") == ("B", "creative-work")


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("O-LOC", "O takes no type"),
        ("o-LOC", "O takes no type"),
        ("X-PER", "prefix of B, I, E, S, L, U, M"),
        ("B-", "neither 'O' nor PREFIX-TYPE"),
        ("o", "neither 'O' nor PREFIX-TYPE"),
    ],
)
def test_tags_outside_every_scheme_are_refused(tag, expected):
    with pytest.raises(ValueError, match=expected):
        split_tag(tag)


def test_lower_case_prefixes_are_upper_cased_and_counted():
    sentence = Sentence(["a", "b", "c"], ["b-LOC", "i-LOC", "B-PER"], "f.txt", [1, 2, 3])
    assert upper_case_prefixes([sentence]) == 2
    assert sentence.tags == ["B-LOC", "I-LOC", "B-PER"]


def test_two_spellings_of_one_type_are_refused_at_the_second():
    first = Sentence(["a"], ["B-ORG"], "f.txt", [1])
    second = Sentence(["b", "c"], ["O", "B-org"], "f.txt", [3, 4])
    with pytest.raises(
        CorpusError, match=r"f.txt:4: entity type 'org' differs only in case from 'ORG' \(f.txt:1\)"
    ):
        check_type_spelling([first, second])
    check_type_spelling([first, Sentence(["b"], ["B-PER"], "f.txt", [3])])  # distinct types pass


def test_one_letter_types_and_the_o_message():
    assert split_tag("B-X") == ("B", "X")
    with pytest.raises(ValueError) as caught:
        split_tag("O-LOC")
    assert str(caught.value) == "tag 'O-LOC': O takes no type (write O, or B-LOC / I-LOC)"


def test_a_corpus_without_entities_is_iob2():
    assert detect_scheme([Sentence(["a", "b"], ["O", "O"])]) == "iob2"
