"""SetFit's pair loss and its logistic-regression head."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from tunelab.tasks.classification.methods.setfit.module import fit_head
from tunelab.tasks.classification.methods.setfit.pairs import (
    pair_loss,
    pair_targets,
    softmax_pair_loss,
)


def test_pair_targets_single_and_multi_label():
    assert pair_targets(torch.tensor([0, 1, 0])).tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    multi = torch.tensor([[1, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert pair_targets(multi).tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def test_pair_loss_weights_positive_and_negative_pairs_equally():
    # Texts 0 and 2 share a label: one positive pair (0,2), two negative ones (0,1), (1,2).
    embeddings = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    cos02, cos01, cos12 = 0.6, 0.0, 0.8
    expected = ((cos02 - 1) ** 2 + ((cos01 - 0) ** 2 + (cos12 - 0) ** 2) / 2) / 2
    assert pair_loss(embeddings, torch.tensor([5, 7, 5])).item() == pytest.approx(expected)


def test_pair_loss_with_one_kind_of_pair_only():
    embeddings = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    assert pair_loss(embeddings, torch.tensor([1, 1])).item() == pytest.approx(0.4**2)


@pytest.mark.parametrize("classes", [2, 4])
def test_head_gives_the_logistic_regressions_probabilities(classes):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6))
    y = np.arange(40) % classes
    weight, bias = fit_head(x, y, classes, multi_label=False)
    logits = torch.tensor(x @ weight.T + bias)
    expected = LogisticRegression().fit(x, y).predict_proba(x)
    assert np.allclose(logits.softmax(-1).numpy(), expected, atol=1e-6)


def test_multi_label_head_per_label_and_constant_labels():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4))
    y = np.stack([np.arange(30) % 2, np.ones(30, dtype=int), np.zeros(30, dtype=int)], axis=1)
    weight, bias = fit_head(x, y, 3, multi_label=True)
    probs = torch.tensor(x @ weight.T + bias).sigmoid().numpy()
    assert np.allclose(probs[:, 0], LogisticRegression().fit(x, y[:, 0]).predict_proba(x)[:, 1])
    assert (probs[:, 1] == 1).all() and (probs[:, 2] == 0).all()


def test_softmax_pair_loss_by_hand():
    # cosines: (0,1) 0, (0,2) 0.6, (1,2) 0.8; texts 0 and 2 share a label, text 1 has no partner
    embeddings = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    anchor0 = 0.6 - np.log(np.exp(0.0) + np.exp(0.6))
    anchor2 = 0.6 - np.log(np.exp(0.6) + np.exp(0.8))
    loss = softmax_pair_loss(embeddings, torch.tensor([5, 7, 5]), temperature=1.0)
    assert loss.item() == pytest.approx(-(anchor0 + anchor2) / 2, rel=1e-5)
    assert softmax_pair_loss(embeddings, torch.tensor([1, 2, 3])).item() == 0.0
