import itertools

import torch

from tunelab.tasks.ner.crf import CRF, word_rows
from tunelab.tasks.ner.spans import allowed_starts, allowed_transitions, viterbi

LABELS = ["O", "B-X", "I-X"]


def _crf(seed: int = 0) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(allowed_transitions(LABELS))
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def _path_score(crf: CRF, emissions: torch.Tensor, tags: list[int]) -> torch.Tensor:
    allowed = allowed_transitions(LABELS)
    if any(not allowed[a, b] for a, b in itertools.pairwise(tags)):
        return torch.tensor(float("-inf"))
    score = crf.start[tags[0]] + crf.end[tags[-1]] + emissions[range(len(tags)), tags].sum()
    return score + sum(crf.transitions[a, b] for a, b in itertools.pairwise(tags))


def test_nll_matches_enumeration_over_legal_paths():
    crf, emissions = _crf(), torch.randn(1, 4, 3)
    paths = list(itertools.product(range(3), repeat=4))
    scores = torch.stack([_path_score(crf, emissions[0], list(p)) for p in paths])
    gold = [1, 2, 0, 1]
    expected = torch.logsumexp(scores, 0) - _path_score(crf, emissions[0], gold)
    nll = crf.nll(emissions, torch.tensor([gold]), torch.ones(1, 4, dtype=torch.bool))
    assert torch.allclose(nll, expected, atol=1e-4)


def test_padding_after_the_last_word_changes_nothing():
    crf, emissions = _crf(1), torch.randn(1, 3, 3)
    tags = torch.tensor([[1, 2, 0]])
    short = crf.nll(emissions, tags, torch.ones(1, 3, dtype=torch.bool))
    padded = crf.nll(
        torch.cat([emissions, torch.randn(1, 2, 3)], 1),
        torch.tensor([[1, 2, 0, 2, 2]]),
        torch.tensor([[True, True, True, False, False]]),
    )
    assert torch.allclose(short, padded, atol=1e-5)


def test_viterbi_with_learned_scores_is_the_best_legal_path():
    crf, emissions = _crf(2), torch.randn(5, 3)
    path = viterbi(emissions, allowed_transitions(LABELS), allowed_starts(LABELS), crf.learned())
    legal = [p for p in itertools.product(range(3), repeat=5) if LABELS[p[0]] != "I-X"]
    with torch.no_grad():
        best = max(legal, key=lambda p: float(_path_score(crf, emissions, list(p))))
    assert path == list(best)


def test_word_rows_packs_first_subtokens_and_drops_wordless_rows():
    logits = torch.arange(2 * 5 * 1, dtype=torch.float).view(2, 5, 1).expand(2, 5, 3)
    word_index = torch.tensor([[-1, 0, -1, 1, -1], [-1, -1, -1, -1, -1]])
    labels = torch.tensor([[-100, 2, -100, 1, -100], [-100] * 5])
    emissions, tags, mask = word_rows(logits, word_index, labels)
    assert emissions.shape == (1, 2, 3)
    assert emissions[0, :, 0].tolist() == [1.0, 3.0]
    assert tags.tolist() == [[2, 1]] and mask.tolist() == [[True, True]]


def test_marginals_match_enumeration_and_ignore_padding():
    """Each word's label probabilities summed over every legal path by hand, at temperature 2;
    a row padded after its third word gives its three words' marginals alone."""
    crf, emissions = _crf(2), torch.randn(2, 4, 3)
    t = 2.0
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    found = crf.marginals(emissions, mask, temperature=t)
    for row, length in enumerate((4, 3)):
        paths = list(itertools.product(range(3), repeat=length))
        scores = torch.stack([_path_score(crf, emissions[row], list(p)) for p in paths]) / t
        weights = torch.softmax(scores, 0)
        expected = torch.zeros(length, 3)
        for path, weight in zip(paths, weights, strict=True):
            expected[range(length), list(path)] += weight
        assert torch.allclose(found[row, :length], expected, atol=1e-5)
    assert torch.equal(found[1, 3], torch.zeros(3))
