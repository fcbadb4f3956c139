"""Counts per time window and topic, and the alert rule (README: Monitoring with alerts).

The rule, for one topic's closed window with `n` labelled texts of which `k` are negative: its
negative share is p = k / n; the baseline share b is the pooled share of the topic's previous
`baseline` windows, (K + 1) / (N + 2) over their N texts and K negatives (a prior of one
negative and one other, so that a quiet topic's baseline is never 0 or 1). An alert is raised
when n >= min_count, N >= min_baseline_count, p - b >= margin and
z = (p - b) / sqrt(b (1 - b) / n) >= z: the share rose by a margin that matters and by more than
the window's own sampling noise explains. Every window enters the baseline, alerted or not, so
that a lasting change of level stops alerting once it is the new normal.

Only the current window and each topic's trailing `baseline` windows are held: memory does not
grow with the length of the stream.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Rule:
    baseline: int = 24  # trailing windows whose pooled share is the baseline
    min_count: int = 20  # texts a window needs before it can alert
    min_baseline_count: int = 100  # texts the baseline needs
    margin: float = 0.10  # the rise in negative share that matters
    z: float = 3.0  # the rise in standard errors of the window's share


@dataclass
class Tally:
    """One topic in one window: texts per sentiment, and the most negative texts."""

    sentiments: Counter = field(default_factory=Counter)
    negative: int = 0
    examples: list = field(default_factory=list)  # a min-heap of (negative score, order, text)

    @property
    def count(self) -> int:
        return sum(self.sentiments.values())


@dataclass(frozen=True)
class Closed:
    """A topic's closed window, with what the rule computed and whether it alerted."""

    start: datetime
    end: datetime
    topic: str
    tally: Tally
    baseline_share: float | None  # None: not enough baseline yet
    z: float | None
    alert: bool

    @property
    def share(self) -> float | None:
        return self.tally.negative / self.tally.count if self.tally.count else None

    def row(self) -> dict:
        """The window as a row of windows.csv."""
        return {
            "start": self.start.isoformat(),
            "topic": self.topic,
            "count": self.tally.count,
            "negative": self.tally.negative,
            "share": _rounded(self.share),
            "baseline": _rounded(self.baseline_share),
            "z": _rounded(self.z),
            "alert": int(self.alert),
        }

    def alert_record(self) -> dict:
        """The window as a line of alerts.jsonl: counts, shares and the most negative texts."""
        examples = sorted(self.tally.examples, reverse=True)
        return {
            "window_start": self.start.isoformat(),
            "window_end": self.end.isoformat(),
            "topic": self.topic,
            "count": self.tally.count,
            "negative": self.tally.negative,
            "sentiments": dict(self.tally.sentiments),
            "share": _rounded(self.share),
            "baseline_share": _rounded(self.baseline_share),
            "z": _rounded(self.z),
            "examples": [{"text": text, "negative": round(s, 4)} for s, _, text in examples],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def window_start(time: datetime, width: timedelta) -> datetime:
    """The start of the window holding `time` (windows are aligned to the Unix epoch)."""
    return EPOCH + width * ((time - EPOCH) // width)


def judged(tally: Tally, history: deque, rule: Rule) -> tuple[float | None, float | None, bool]:
    """(baseline share, z, alert) of a window against the topic's previous windows
    `history` of (count, negative)."""
    total = sum(n for n, _ in history)
    negative = sum(k for _, k in history)
    if total < rule.min_baseline_count:
        return None, None, False
    base = (negative + 1) / (total + 2)
    if tally.count == 0:
        return base, None, False
    share = tally.negative / tally.count
    z = (share - base) / math.sqrt(base * (1 - base) / tally.count)
    alert = tally.count >= rule.min_count and share - base >= rule.margin and z >= rule.z
    return base, z, alert


class Windows:
    """Texts labelled with a topic and a sentiment, counted per window in time order.

    `add` returns the windows it closed (every topic seen so far, empty or not, for each window
    from the last open one up to the one the text falls in); `late` texts, earlier than the open
    window, are refused (`add` returns None) rather than counted where they do not belong.
    """

    def __init__(self, width: timedelta, rule: Rule, negative: str, examples: int = 3) -> None:
        self.width, self.rule, self.negative, self.examples = width, rule, negative, examples
        self.start: datetime | None = None
        self.open: dict[str, Tally] = {}
        self.history: dict[str, deque] = {}
        self.order = 0

    def add(self, time: datetime, topic: str, sentiment: str, negative_score: float, text: str):
        start = window_start(time, self.width)
        if self.start is not None and start < self.start:
            return None
        closed = []
        while self.start is not None and self.start < start:
            closed += self.close_open()
        if self.start is None:
            self.start = start
        self.history.setdefault(topic, deque(maxlen=self.rule.baseline))
        tally = self.open.setdefault(topic, Tally())
        tally.sentiments[sentiment] += 1
        if sentiment == self.negative:
            tally.negative += 1
        self.order += 1
        kept = (negative_score, -self.order, text)
        if len(tally.examples) < self.examples:
            heapq.heappush(tally.examples, kept)
        elif kept > tally.examples[0]:
            heapq.heapreplace(tally.examples, kept)
        return closed

    def close_open(self) -> list[Closed]:
        """Close the open window (every topic seen so far) and open the next one."""
        if self.start is None:
            return []
        closed = []
        for topic in sorted(self.history):
            tally = self.open.get(topic, Tally())
            base, z, alert = judged(tally, self.history[topic], self.rule)
            end = self.start + self.width
            closed.append(Closed(self.start, end, topic, tally, base, z, alert))
            self.history[topic].append((tally.count, tally.negative))
        self.open = {}
        self.start += self.width
        return closed
