"""Word tags to entity spans, and legal-sequence decoding of per-word label scores."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Span:
    """Entity over words [start, end) of one sentence."""

    type: str
    start: int
    end: int


def tags_to_spans(tags: list[str]) -> list[Span]:
    """Entities of an IOB2 tag sequence, read as conlleval does: `B-X` opens an entity, `I-X`
    continues an open X entity and otherwise opens one, anything else closes it."""
    spans: list[Span] = []
    open_span: Span | None = None
    for i, tag in enumerate(tags):
        prefix, kind = (tag[0], tag[2:]) if tag != "O" else ("O", "")
        if open_span and (prefix != "I" or kind != open_span.type):
            spans.append(open_span)
            open_span = None
        if prefix in "BI" and open_span is None:
            open_span = Span(kind, i, i + 1)
        elif open_span:
            open_span.end = i + 1
    if open_span:
        spans.append(open_span)
    return spans


def allowed_transitions(labels: list[str]) -> torch.Tensor:
    """Boolean [from, to] matrix of legal IOB2 transitions: I-X only after B-X or I-X."""
    n = len(labels)
    allowed = torch.ones(n, n, dtype=torch.bool)
    for j, to in enumerate(labels):
        if to.startswith("I-"):
            for i, origin in enumerate(labels):
                allowed[i, j] = origin[2:] == to[2:] and origin[:2] in ("B-", "I-")
    return allowed


def allowed_starts(labels: list[str]) -> torch.Tensor:
    """Boolean [label] vector: a sentence cannot start with I-."""
    return torch.tensor([not label.startswith("I-") for label in labels])


def viterbi(
    log_probs: torch.Tensor,
    allowed: torch.Tensor,
    starts: torch.Tensor,
    learned: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> list[int]:
    """Most probable label sequence under the transition constraints.

    Args:
        log_probs: [words, labels] per-word log-probabilities (or CRF emission scores).
        allowed: [labels, labels] legal transitions; starts: [labels] legal first labels.
        learned: a CRF's (transition [from, to], start [labels], end [labels]) scores, added to
            the legal paths' scores; None for plain constrained decoding.
    """
    if log_probs.shape[0] == 0:
        return []
    forbidden = torch.tensor(float("-inf"))
    transition = torch.where(allowed, 0.0, forbidden)
    first = torch.where(starts, 0.0, forbidden)
    last = torch.zeros(log_probs.shape[1])
    if learned is not None:
        transition, first, last = transition + learned[0], first + learned[1], learned[2]
    score = first + log_probs[0]
    backpointers = []
    for emission in log_probs[1:]:
        total = score.unsqueeze(1) + transition  # [from, to]
        score, best_from = total.max(dim=0)
        score = score + emission
        backpointers.append(best_from)
    path = [int((score + last).argmax())]
    for best_from in reversed(backpointers):
        path.append(int(best_from[path[-1]]))
    return path[::-1]
