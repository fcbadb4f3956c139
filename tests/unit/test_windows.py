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
