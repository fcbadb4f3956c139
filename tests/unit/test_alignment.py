from hypothesis import given
from hypothesis import strategies as st

from tunelab.data.alignment import IGNORE, align_labels, encode_sentences


def test_first_subtoken_carries_label():
    word_ids = [None, 0, 0, 1, 2, 2, 2, None]
    labels, index = align_labels(word_ids, [1, 0, 3])
    assert labels == [IGNORE, 1, IGNORE, 0, 3, IGNORE, IGNORE, IGNORE]
    assert index == [-1, 0, -1, 1, 2, -1, -1, -1]


def test_label_all_subtokens_uses_inside_label():
    inside_of = [0, 2, 2]  # O->O, B-X->I-X, I-X->I-X
    labels, _ = align_labels([None, 0, 0, 1, 1, None], [1, 0], inside_of)
    assert labels == [IGNORE, 1, 2, 0, 0, IGNORE]


@given(st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=30))
def test_every_word_has_exactly_one_first_subtoken(pieces_per_word):
    word_ids = [None] + [w for w, n in enumerate(pieces_per_word) for _ in range(n)] + [None]
    labels, index = align_labels(word_ids, list(range(len(pieces_per_word))))
    assert [i for i in index if i >= 0] == list(range(len(pieces_per_word)))
    assert [label for label in labels if label != IGNORE] == list(range(len(pieces_per_word)))


def test_words_the_tokenizer_drops_become_unknown(tiny_tokenizer):
    # U+200B (zero-width space) tokenizes to nothing; it must still get a prediction slot.
    (item,) = encode_sentences(
        tiny_tokenizer, [["john", "\u200b", "paris"]], [[1, 0, 2]], 32, stride=8
    )
    assert [i for i in item["word_index"] if i >= 0] == [0, 1, 2]
    assert item["input_ids"][2] == tiny_tokenizer.unk_token_id
    assert item["words_truncated"] == 0


def test_truncated_words_are_counted(tiny_tokenizer):
    words = ["john"] * 20
    (item,) = encode_sentences(tiny_tokenizer, [words], [[0] * 20], max_length=8, stride=None)
    assert len(item["input_ids"]) == 8
    assert item["words_truncated"] == 14  # 8 - [CLS] - [SEP] = 6 words kept
