import pytest

from tunelab.data.conll import Sentence
from tunelab.data.schemes import detect_scheme, split_tag, to_iob2
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
