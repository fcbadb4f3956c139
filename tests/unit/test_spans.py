import itertools

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from tunelab.tasks.ner.spans import (
    allowed_starts,
    allowed_transitions,
    tags_to_spans,
    viterbi,
    viterbi_many,
)

LABELS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_spans_of_valid_iob2():
    spans = tags_to_spans(["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"])
    assert [(s.type, s.start, s.end) for s in spans] == [
        ("PER", 0, 2),
        ("LOC", 3, 4),
        ("LOC", 4, 6),
    ]


@given(st.lists(st.sampled_from(LABELS), max_size=12))
def test_spans_match_seqeval_default_mode(tags):
    ours = [(s.type, s.start, s.end - 1) for s in tags_to_spans(tags)]
    assert ours == get_entities(tags)


def is_legal(ids: list[int]) -> bool:
    tags = [LABELS[i] for i in ids]
    for previous, tag in zip(["O"] + tags, tags, strict=False):
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return False
    return True


@given(st.integers(min_value=1, max_value=4), st.randoms(use_true_random=False))
def test_viterbi_is_the_best_legal_sequence(length, rng):
    torch.manual_seed(rng.randint(0, 10_000))
    log_probs = torch.randn(length, len(LABELS)).log_softmax(-1)
    path = viterbi(log_probs, allowed_transitions(LABELS), allowed_starts(LABELS))
    best = max(
        (
            ids
            for ids in itertools.product(range(len(LABELS)), repeat=length)
            if is_legal(list(ids))
        ),
        key=lambda ids: sum(float(log_probs[i, j]) for i, j in enumerate(ids)),
    )
    assert is_legal(path)
    assert tuple(path) == best


def test_viterbi_fixes_an_orphan_inside_tag():
    # argmax would say O, I-PER; the legal best is O, B-PER (or O, O).
    log_probs = torch.tensor([[0.0, -9, -9, -9, -9], [-9, -9, -9, -1.0, -0.5]])
    path = viterbi(log_probs, allowed_transitions(LABELS), allowed_starts(LABELS))
    assert [LABELS[i] for i in path] == ["O", "B-PER"]


def test_viterbi_of_empty_sentence():
    assert viterbi(torch.zeros(0, 5), allowed_transitions(LABELS), allowed_starts(LABELS)) == []


def test_viterbi_many_equals_one_at_a_time():
    torch.manual_seed(0)
    lengths = [0, 1, 5, 2, 9, 1, 3, 0, 7]
    sequences = [torch.randn(n, len(LABELS)).log_softmax(-1) for n in lengths]
    learned = (torch.randn(5, 5), torch.randn(5), torch.randn(5))
    allowed, starts = allowed_transitions(LABELS), allowed_starts(LABELS)
    for scores in (None, learned):
        alone = [viterbi(s, allowed, starts, scores) for s in sequences]
        together = viterbi_many(sequences, allowed, starts, scores, chunk=3)
        assert together == alone
        assert [len(p) for p in together] == lengths


def path_score(ids, log_probs, learned) -> float:
    transition, start, end = learned
    score = float(start[ids[0]]) + float(end[ids[-1]])
    score += sum(float(log_probs[t, j]) for t, j in enumerate(ids))
    return score + sum(float(transition[a, b]) for a, b in zip(ids, ids[1:], strict=False))


@pytest.mark.parametrize("seed", range(6))
def test_viterbi_many_finds_the_best_legal_path_under_learned_scores(seed):
    """Brute force over every legal path, with learned transition, start and end scores of the
    size of the emissions, several sentences of mixed lengths decoded together in chunks."""
    torch.manual_seed(seed)
    labels = len(LABELS)
    learned = (torch.randn(labels, labels), torch.randn(labels) * 2, torch.randn(labels) * 2)
    lengths = [3, 1, 0, 4, 2, 3, 1, 2]
    sequences = [torch.randn(n, labels).log_softmax(-1) for n in lengths]
    allowed, starts = allowed_transitions(LABELS), allowed_starts(LABELS)
    decoded = viterbi_many(sequences, allowed, starts, learned, chunk=3)  # mixed lengths
    for log_probs, path in zip(sequences, decoded, strict=True):
        legal = [
            ids
            for ids in itertools.product(range(labels), repeat=len(log_probs))
            if is_legal(list(ids))
        ]
        best = max(legal, key=lambda ids: path_score(ids, log_probs, learned)) if legal[0] else ()
        assert tuple(path) == best
