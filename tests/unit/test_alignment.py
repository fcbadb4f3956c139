from hypothesis import given
from hypothesis import strategies as st

from tunelab.data.alignment import IGNORE, align_labels, encode_sentences


def unk_free(token_id, tokenizer) -> bool:
    return token_id != tokenizer.unk_token_id


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
    assert unk_free(item["input_ids"][1], tiny_tokenizer)  # other words keep their pieces
    assert item["words_truncated"] == 0


def test_truncated_words_are_counted(tiny_tokenizer):
    words = ["john"] * 20
    (item,) = encode_sentences(tiny_tokenizer, [words], [[0] * 20], max_length=8, stride=None)
    assert len(item["input_ids"]) == 8
    assert item["words_truncated"] == 14  # 8 - [CLS] - [SEP] = 6 words kept


def test_context_fills_the_window_without_labels(tiny_tokenizer):
    sentences = [["john", "went"], ["to", "paris"], ["mary", "met"], ["acme", "."]]
    labels = [[1, 0], [0, 2], [1, 0], [3, 0]]
    plain = encode_sentences(tiny_tokenizer, sentences, labels, 32, stride=8)
    items = encode_sentences(
        tiny_tokenizer, sentences, labels, 32, stride=8, documents=[0, 0, 0, 1], context=1
    )
    middle = items[1]
    # [CLS] john went | to paris | mary met [SEP]: neighbours of the same document only
    assert len(middle["input_ids"]) == len(plain[1]["input_ids"]) + 4
    assert [w for w in middle["word_index"] if w >= 0] == [0, 1]
    assert [x for x in middle["labels"] if x != IGNORE] == [0, 2]
    assert middle["input_ids"][1:3] == plain[0]["input_ids"][1:3]
    # the last sentence starts a new document: no context at all
    assert items[3]["input_ids"] == plain[3]["input_ids"]


def test_context_is_cut_to_the_room_left(tiny_tokenizer):
    sentences = [["john"] * 10, ["paris"], ["mary"] * 10]
    items = encode_sentences(
        tiny_tokenizer, sentences, [[0] * 10, [0], [0] * 10], 8, stride=2, context=1
    )
    middle = next(item for item in items if item["sentence"] == 1)
    assert len(middle["input_ids"]) == 8
    # 6 sub-tokens fit between [CLS] and [SEP]: paris, 2 before (half of 5), 3 after
    ids = tiny_tokenizer.convert_tokens_to_ids
    assert middle["input_ids"][1:7] == [ids("john")] * 2 + [ids("paris")] + [ids("mary")] * 3


def test_stride_must_stay_below_the_room_between_special_tokens(tiny_tokenizer):
    import pytest

    from tunelab.errors import TunelabError

    message = "data.stride=6 must be at least 0 and below data.max_length=8 minus 2 special tokens"
    with pytest.raises(TunelabError, match=message):
        encode_sentences(tiny_tokenizer, [["john"]], [[0]], max_length=8, stride=6)
    assert encode_sentences(tiny_tokenizer, [["john"]], [[0]], max_length=8, stride=5)


def test_special_and_context_tokens_belong_to_no_word(tiny_tokenizer):
    sentences = [["john"], ["paris"], ["mary"]]
    items = encode_sentences(
        tiny_tokenizer, sentences, [[1], [2], [1]], 32, stride=8, documents=[0, 0, 0], context=1
    )
    middle = items[1]
    assert middle["word_index"] == [-1, -1, 0, -1, -1]  # [CLS] john | paris | mary [SEP]
    assert middle["labels"] == [IGNORE, IGNORE, 2, IGNORE, IGNORE]


def test_context_takes_k_sentences_each_side_and_no_more(tiny_tokenizer):
    sentences = [["john"], ["went"], ["paris"], ["to"], ["mary"]]
    items = encode_sentences(
        tiny_tokenizer, sentences, [[0]] * 5, 32, stride=8, documents=[0] * 5, context=1
    )
    tokens = tiny_tokenizer.convert_ids_to_tokens(items[2]["input_ids"])
    assert tokens == ["[CLS]", "went", "paris", "to", "[SEP]"]


def test_later_sub_tokens_take_the_inside_label_when_asked(tiny_tokenizer):
    # "johns" is john ##s in the tiny vocabulary; labels O, B-X, I-X with I-X the inside of B-X
    (item,) = encode_sentences(tiny_tokenizer, [["johns"]], [[1]], 32, [0, 2, 2], stride=8)
    assert tiny_tokenizer.convert_ids_to_tokens(item["input_ids"]) == [
        "[CLS]",
        "john",
        "##s",
        "[SEP]",
    ]
    assert item["labels"] == [IGNORE, 1, 2, IGNORE]


def test_long_text_is_read_sentence_by_sentence_in_numbered_windows(tiny_tokenizer):
    words = ["john", "went", ".", "mary", "met", "acme", "to", "."]
    items = encode_sentences(
        tiny_tokenizer, [words], [[0] * 8], max_length=6, stride=2, by_sentence=True
    )
    kept = [[words[w] for w in item["word_index"] if w >= 0] for item in items]
    # the first sentence alone; the second (5 words) in windows of 4, the last one ending at its end
    assert kept == [
        ["john", "went", "."],
        ["mary", "met", "acme", "to"],
        ["met", "acme", "to", "."],
    ]
    assert [item["window"] for item in items] == [0, 1, 2]
    plain = encode_sentences(tiny_tokenizer, [words], [[0] * 8], max_length=6, stride=2)
    assert [w for w in plain[0]["word_index"] if w >= 0] == [0, 1, 2, 3]  # not by sentence


def test_an_exact_fit_loses_no_word(tiny_tokenizer):
    (item,) = encode_sentences(tiny_tokenizer, [["john"] * 6], [[0] * 6], 8, stride=None)
    assert item["words_truncated"] == 0 and len(item["input_ids"]) == 8


def test_a_sentencepiece_tokenizer_reads_chinese_characters_without_a_lone_space():
    """As in running Chinese text: each character its own first sub-token, not after a lone
    space piece that would carry every character's label; other words keep their pieces."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from tunelab.data.alignment import encode_sentences, tokenized_words

    pieces = ["<unk>", "<pad>", "▁", "中", "国", "▁hello", "x", "，"]
    backend = Tokenizer(models.Unigram([(p, -1.0) for p in pieces], unk_id=0))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>"
    )
    ids, words = tokenized_words(tokenizer, [["中", "国", "hello", "x", "，"]])
    assert tokenizer.convert_ids_to_tokens(ids[0]) == ["中", "国", "▁hello", "▁", "x", "，"]
    assert words[0] == [0, 1, 2, 3, 3, 4]
    (item,) = encode_sentences(tokenizer, [["中", "国"]], [[5, 6]], max_length=16, stride=4)
    assert item["input_ids"] == [3, 4] and item["labels"] == [5, 6]
