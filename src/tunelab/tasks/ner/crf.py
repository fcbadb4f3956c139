"""A linear-chain CRF over word labels, trained with its negative log-likelihood.

Written here rather than taken from pytorch-crf: that package is unmaintained and cannot forbid
transitions; this one keeps IOB2-illegal transitions out of training and decoding alike, and
decodes with the same Viterbi (`tunelab.tasks.ner.spans.viterbi`) as the plain model.
"""

from __future__ import annotations

import torch
from torch import nn

# Stands in for -inf in training: keeps logsumexp and its gradients finite.
FORBIDDEN = -1e4


class CRF(nn.Module):
    """Learned transition, start and end scores for `allowed` [from, to] label pairs."""

    def __init__(self, allowed: torch.Tensor):
        super().__init__()
        n = allowed.shape[0]
        self.transitions = nn.Parameter(torch.zeros(n, n))
        self.start = nn.Parameter(torch.zeros(n))
        self.end = nn.Parameter(torch.zeros(n))
        self.register_buffer("allowed", allowed.clone(), persistent=False)

    def learned(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(transition, start, end) scores as float32 tensors on the CPU, for decoding."""
        return tuple(t.detach().float().cpu() for t in (self.transitions, self.start, self.end))

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of the gold tag sequences.

        Args:
            emissions: [batch, words, labels] scores; tags: [batch, words] gold label ids;
            mask: [batch, words] True for real words, which come first in each row (every row
                has at least one).
        """
        emissions = emissions.float()
        transitions = self.transitions.masked_fill(~self.allowed, FORBIDDEN)
        rows = torch.arange(tags.shape[0], device=tags.device)
        lengths = mask.sum(1)
        gold = self.start[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
        alpha = self.start + emissions[:, 0]  # [batch, labels]: log-sum over paths so far
        for t in range(1, tags.shape[1]):
            on = mask[:, t]
            step = transitions[tags[:, t - 1], tags[:, t]] + emissions[rows, t, tags[:, t]]
            gold = gold + step * on
            nxt = torch.logsumexp(alpha.unsqueeze(2) + transitions + emissions[:, t, None], dim=1)
            alpha = torch.where(on.unsqueeze(1), nxt, alpha)
        gold = gold + self.end[tags[rows, lengths - 1]]
        partition = torch.logsumexp(alpha + self.end, dim=1)
        return (partition - gold).mean()

    def marginals(
        self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0
    ) -> torch.Tensor:
        """[batch, words, labels] each label's probability at each real word over all tag
        sequences (forward-backward), every score divided by `temperature` (above 1: softer,
        as a distillation teacher's); zero at padding. Arguments as `nll`'s."""
        emissions = emissions.float() / temperature
        transitions = self.transitions.masked_fill(~self.allowed, FORBIDDEN) / temperature
        start, end = self.start / temperature, self.end / temperature
        forward = [start + emissions[:, 0]]
        for t in range(1, emissions.shape[1]):
            step = forward[-1].unsqueeze(2) + transitions + emissions[:, t, None]
            forward.append(torch.logsumexp(step, dim=1))
        last = end.expand_as(forward[0])  # after a row's last word only the end score is left
        backward = [last]
        for t in range(emissions.shape[1] - 2, -1, -1):
            ahead = (emissions[:, t + 1] + backward[0]).unsqueeze(1)
            step = torch.logsumexp(transitions + ahead, dim=2)
            backward.insert(0, torch.where(mask[:, t + 1, None], step, last))
        scores = torch.stack(forward, 1) + torch.stack(backward, 1)
        # at every real word the log-sum over labels is the same partition function
        return torch.softmax(scores, dim=-1) * mask.unsqueeze(-1)


def word_rows(
    logits: torch.Tensor, word_index: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pack each row's word positions (first sub-tokens) to the front.

    Returns:
        emissions [rows, words, labels], tags [rows, words], mask [rows, words], for the rows
        that hold at least one word.
    """
    is_word = word_index >= 0
    keep = is_word.any(1)
    is_word, logits, labels = is_word[keep], logits[keep], labels[keep]
    counts = is_word.sum(1)
    width = int(counts.max()) if len(counts) else 0
    # A stable sort on "not a word" brings word positions to the front in their order.
    order = torch.sort((~is_word).int(), dim=1, stable=True).indices[:, :width]
    emissions = logits.gather(1, order.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))
    mask = torch.arange(width, device=logits.device) < counts.unsqueeze(1)
    tags = labels.gather(1, order).masked_fill(~mask, 0)
    return emissions, tags, mask
