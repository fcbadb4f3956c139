import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.data.alignment import encode_sentences
from tunelab.data.windows import merge_windows, window_starts


@given(st.integers(0, 400), st.integers(1, 64), st.data())
def test_windows_cover_everything_with_the_overlap_asked(length, size, data):
    stride = data.draw(st.integers(0, size - 1))
    starts = window_starts(length, size, stride)
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert min(length, starts[-1] + size) == length  # the last window reaches the end
    for a, b in zip(starts, starts[1:], strict=False):
        assert a + size - b >= stride  # neighbours share at least `stride` tokens


def test_merge_takes_the_window_where_the_word_is_most_central():
    first = ([0, 1, 2], [1, 2, 1], torch.tensor([[1.0], [1.0], [1.0]]))
    second = ([1, 2, 3], [1, 2, 1], torch.tensor([[2.0], [2.0], [2.0]]))
    words, scores = merge_windows([first, second])
    assert words == [0, 1, 2, 3]
    assert scores.flatten().tolist() == [1.0, 1.0, 2.0, 2.0]


WORDS = ["john", "johns", "paris", "parising", "acme", "acmes", "to", "."]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), min_size=0, max_size=80),
    st.integers(min_value=6, max_value=40),
    st.data(),
)
def test_every_word_is_predicted_exactly_once(tiny_tokenizer, words, max_length, data):
    stride = data.draw(st.integers(0, max_length - 3))
    items = encode_sentences(tiny_tokenizer, [words], [[0] * len(words)], max_length, stride=stride)
    pieces = []
    for item in items:
        assert len(item["input_ids"]) <= max_length
        positions = [p for p, w in enumerate(item["word_index"]) if w >= 0]
        length = len(item["input_ids"])
        word_ids = [item["word_index"][p] for p in positions]
        distances = [min(p, length - 1 - p) for p in positions]
        pieces.append((word_ids, distances, torch.tensor(word_ids, dtype=torch.float)[:, None]))
    covered, scores = merge_windows(pieces)
    assert covered == list(range(len(words)))  # no word lost, none twice
    assert scores.flatten().tolist() == [float(w) for w in covered]
    assert all(item["words_truncated"] == 0 for item in items)


def test_running_text_joins_neighbours_within_documents_up_to_the_size():
    from tunelab.data.windows import running_text_groups

    lengths = [4, 4, 4, 9, 3, 3, 3, 3]
    documents = [1, 1, 1, 1, 1, 2, 2, 2]
    # Runs of at most 8 sub-tokens: [0,1] [2] [3] [4] | [5,6] [7]; every run joined:
    assert running_text_groups(lengths, documents, 1.0, 8) == [[0, 1], [5, 6]]
    # Half the runs, spread evenly (the 2nd, 4th, 6th): [2], [4] and [7], single sentences.
    assert running_text_groups(lengths, documents, 0.5, 8) == []
    # One document: runs [0,1] [2] [3] [4,5] [6,7]; half of them: [2] and [4,5].
    assert running_text_groups(lengths, [1] * 8, 0.5, 8) == [[4, 5]]
    assert running_text_groups(lengths, documents, 0.0, 8) == []


def test_running_text_never_crosses_a_document():
    from tunelab.data.windows import running_text_groups

    groups = running_text_groups([1] * 6, [1, 1, 1, 2, 2, 2], 1.0, 100)
    assert groups == [[0, 1, 2], [3, 4, 5]]


def test_running_text_joins_no_sentences_outside_a_marked_document():
    from tunelab.data.windows import running_text_groups

    # a file without -DOCSTART- (tweets, sampled sentences): neighbours may be unrelated
    assert running_text_groups([1] * 6, [0] * 6, 1.0, 100) == []
    # sentences before the first marker stay apart; those after it are joined
    assert running_text_groups([1] * 6, [0, 0, 1, 1, 1, 1], 1.0, 100) == [[2, 3, 4, 5]]


def test_sentence_pieces_cut_after_sentence_ends_and_window_long_sentences():
    from tunelab.data.windows import sentence_pieces

    # words 0..5; word 1 has two sub-tokens; words 2 and 5 end sentences
    word_ids = [0, 1, 1, 2, 3, 4, 4, 4, 4, 5]
    assert sentence_pieces(word_ids, {2, 5}, size=10, stride=2) == [(0, 4), (4, 10)]
    # the second sentence (6 sub-tokens) in windows of 4 sharing 2
    assert sentence_pieces(word_ids, {2, 5}, size=4, stride=2) == [(0, 4), (4, 8), (6, 10)]
    # a sentence end as the last word adds no empty piece
    assert sentence_pieces(word_ids, {5}, size=20, stride=2) == [(0, 10)]


def test_eval_window_follows_the_training_lengths():
    from tunelab.tasks.ner.datamodule import eval_window_for

    assert eval_window_for([10] * 99 + [500], 512) == 64  # the 99th percentile, at least 64
    assert eval_window_for([100] * 98 + [130, 131], 512) == 160  # rounded up to 32
    assert eval_window_for([400] * 10, 256) == 256  # at most max_length
    assert eval_window_for([], 512) == 512


def test_merge_keeps_the_earlier_window_on_a_tie_and_compares_distances():
    first = ([0, 1], [1, 3], torch.tensor([[1.0], [1.0]]))
    tie = ([1, 2], [3, 1], torch.tensor([[5.0], [5.0]]))
    nearer_edge = ([1], [2], torch.tensor([[7.0]]))
    words, scores = merge_windows([first, tie, nearer_edge])
    assert words == [0, 1, 2]
    assert scores.flatten().tolist() == [1.0, 1.0, 5.0]


def test_merge_of_nothing_keeps_the_label_dimension():
    assert merge_windows([([], [], torch.zeros(0, 3))])[1].shape == (0, 3)
    assert merge_windows([])[1].shape == (0, 0)


def test_inputs_of_unequal_length_are_refused():
    import pytest

    from tunelab.data.windows import running_text_groups

    with pytest.raises(ValueError):
        merge_windows([([0, 1], [1], torch.zeros(2, 3))])
    with pytest.raises(ValueError):
        running_text_groups([1, 2, 3], [0, 0], 1.0, 8)


def test_a_run_after_a_cut_starts_from_zero_sub_tokens():
    from tunelab.data.windows import running_text_groups

    # the long first sentence is a run of its own; 4 + 4 then fit exactly in 8
    assert running_text_groups([9, 4, 4], [1, 1, 1], 1.0, 8) == [[1, 2]]


def test_sentences_in_running_order_are_told_from_unrelated_ones():
    import random

    from tunelab.data.windows import IN_ORDER_RATIO, neighbour_ratio

    rng = random.Random(0)

    def word(i: int) -> str:  # alphabetic, as content words are
        return "w" + "".join(chr(97 + int(digit)) for digit in f"{i:04d}")

    common = [word(i) for i in range(200)]
    documents = []
    for d in range(30):  # each document returns to its own few names
        names = [word(1000 + 10 * d + i) for i in range(4)]
        documents += [rng.sample(names, 2) + rng.sample(common, 3) for _ in range(6)]
    assert neighbour_ratio(documents) > IN_ORDER_RATIO
    shuffled = list(documents)
    rng.shuffle(shuffled)
    assert neighbour_ratio(shuffled) < 2
    assert neighbour_ratio(documents[:5]) == 0.0  # too few to tell
