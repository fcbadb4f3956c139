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
    return viterbi_many([log_probs], allowed, starts, learned)[0]


def viterbi_many(
    sequences: list[torch.Tensor],
    allowed: torch.Tensor,
    starts: torch.Tensor,
    learned: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    chunk: int = 512,
) -> list[list[int]]:
    """`viterbi` for many sentences at once: sentences of similar length are stacked and decoded
    together, `chunk` at a time, so the Python loop runs per word position, not per word."""
    forbidden = torch.tensor(float("-inf"))
    transition = torch.where(allowed, 0.0, forbidden)
    first = torch.where(starts, 0.0, forbidden)
    last = torch.zeros(allowed.shape[0])
    if learned is not None:
        transition, first, last = transition + learned[0], first + learned[1], learned[2]
    paths: list[list[int]] = [[] for _ in sequences]
    order = sorted((i for i, s in enumerate(sequences) if len(s)), key=lambda i: len(sequences[i]))
    for begin in range(0, len(order), chunk):
        group = order[begin : begin + chunk]
        lengths = torch.tensor([len(sequences[i]) for i in group])
        emissions = torch.nn.utils.rnn.pad_sequence(
            [sequences[i].float() for i in group], batch_first=True
        )  # [sentences, words, labels]
        score = first + emissions[:, 0]
        backpointers = []
        for t in range(1, emissions.shape[1]):
            best, best_from = (score.unsqueeze(2) + transition).max(dim=1)  # over `from`
            score = torch.where((t < lengths).unsqueeze(1), best + emissions[:, t], score)
            backpointers.append(best_from)
        label = (score + last).argmax(-1)  # each sentence's last label
        path = torch.zeros(emissions.shape[:2], dtype=torch.long)
        for t in range(emissions.shape[1] - 1, 0, -1):
            inside = t < lengths  # position t exists in the sentence
            path[:, t] = label
            previous = backpointers[t - 1].gather(1, label.unsqueeze(1)).squeeze(1)
            label = torch.where(inside, previous, label)
        path[:, 0] = label
        for row, i in enumerate(group):
            paths[i] = path[row, : lengths[row]].tolist()
    return paths
