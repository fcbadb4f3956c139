"""Classification splits: the packaged corpora (read from their installed packages) and folders."""

from collections import Counter

import pytest

from tunelab.data.text_splits import _bbc_news, _rotten_tomatoes, _tweets, load_examples
from tunelab.errors import TunelabError


def test_rotten_tomatoes_keeps_the_reviews_and_leaves_out_the_plots():
    examples = _rotten_tomatoes()
    assert Counter(e.label for e in examples) == {"fresh": 7403, "rotten": 5405}
    first = examples[0]
    assert (first.text, first.row, first.text_pair) == (
        "A three-hour cinema master class.",
        1449,
        None,
    )


def test_bbc_news_is_one_article_per_file_labelled_by_folder():
    examples = _bbc_news()
    assert Counter(e.label for e in examples) == {
        "sports": 511,
        "business": 510,
        "politics": 417,
        "tech": 401,
        "entertainment": 386,
    }
    first = examples[0]
    assert first.path.endswith("business/001.txt") and (first.row, first.text_pair) == (1, None)
    assert (
        first.text.startswith("Ad sales boost Time Warner profit\n\nQuarterly")
        and first.text == first.text.strip()
    )
    cp1252 = next(e for e in examples if e.path.endswith("sports/199.txt"))
    assert "£" in cp1252.text and "\ufffd" not in cp1252.text


def test_tweets_are_read_whole_once_each_and_never_with_two_labels():
    examples = _tweets()
    assert Counter(e.label for e in examples) == {
        "negative": 15955,
        "neutral": 14431,
        "positive": 6811,
    }
    texts = [e.text for e in examples]
    assert len(set(texts)) == len(texts)
    # line 2 is not UTF-8: read as Latin-1, every byte kept
    assert (examples[0].row, examples[0].text) == (
        2,
        "I just don't trust my life in google's hands #driverless cars_\xd1_.no thank you",
    )
    # the same text judged negative at one place and otherwise at another is left out
    assert not any(e.text.startswith("@AmericanAir Believe me, I understand.") for e in examples)


def test_packaged_splits_are_a_fixed_80_10_10_cut():
    sizes = {s: len(load_examples(s, corpus="bbc_news")) for s in ("train", "dev", "test")}
    assert sizes == {"train": 1780, "dev": 222, "test": 223}
    assert load_examples("test", corpus="bbc_news")[0].text.startswith("Ethiopia's crop production")
    assert len(load_examples("dev", corpus="rotten_tomatoes")) == 1281


@pytest.mark.parametrize(
    "corpus, sizes, intents",
    [
        ("banking77", (9003, 1000, 3080), 77),
        ("clinc150", (18000, 2250, 2250), 150),
        ("hwu64", (7712, 933, 1032), 64),
    ],
)
def test_intent_corpora_keep_their_own_splits(corpus, sizes, intents):
    splits = [load_examples(s, corpus=corpus) for s in ("train", "dev", "test")]
    assert tuple(map(len, splits)) == sizes
    assert all(len({e.label for e in split}) == intents for split in splits)


@pytest.mark.parametrize(
    "corpus, sizes, labels",
    [
        ("thucnews", (7000, 1000, 1421), 14),
        ("thucnews_titles", (8000, 1000, 1000), 10),
        ("smp2018", (2099, 200, 770), 31),
        ("chinese_reviews", (13890, 1737, 1736), 2),
    ],
)
def test_chinese_corpora_give_their_splits(corpus, sizes, labels):
    splits = [load_examples(s, corpus=corpus) for s in ("train", "dev", "test")]
    assert tuple(map(len, splits)) == sizes
    assert len({e.label for e in splits[0]}) == labels
    texts = [{e.text for e in split} for split in splits]
    if corpus == "chinese_reviews":  # duplicates removed: no text in two splits
        assert not (texts[0] & texts[2]) and not (texts[0] & texts[1])


def test_a_thucnews_article_with_tabs_keeps_them_and_its_topic_is_named_in_english():
    test = load_examples("test", corpus="thucnews")
    assert {e.label for e in test} >= {"stocks", "finance", "realty"}
    assert any("\t" in e.text for e in load_examples("train", corpus="thucnews"))
    assert test[0].row == 2 and test[0].path.endswith("thucnews/origin_data/test.tsv")


def test_a_review_on_both_sides_is_left_out_and_lines_are_named():
    reviews = [
        e for s in ("train", "dev", "test") for e in load_examples(s, corpus="chinese_reviews")
    ]
    assert not any(e.text == "1。送货慢，19号订单，20号打款，28号到货" for e in reviews)
    assert all(e.path.endswith(f"sentiment/{e.label[:3]}.txt") and e.row >= 1 for e in reviews)


def test_a_quoted_intent_text_over_two_lines_is_one_text():
    train = load_examples("train", corpus="banking77")
    quoted = [e for e in train if e.text == "How do I unblock my PIN?"]
    assert quoted and all(e.path.endswith("banking/origin_data/train.tsv") for e in quoted)
    assert not any("\n" in e.text or e.text != e.text.strip() for e in train)


def test_a_folder_split_is_a_table_with_the_columns_asked(tmp_path):
    (tmp_path / "train.csv").write_text("q,a,y\nhow,so,1\n")
    (example,) = load_examples(
        "train", directory=str(tmp_path), text_column="q", label_column="y", text_pair_column="a"
    )
    assert (example.text, example.text_pair, example.label) == ("how", "so", "1")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "set exactly one of data.corpus (packaged) or data.dir (a folder)"),
        (
            {"corpus": "imdb"},
            "unknown packaged corpus 'imdb'; known: banking77, bbc_news, chinese_reviews, "
            "clinc150, hwu64, movielens, rotten_tomatoes, smp2018, thucnews, thucnews_titles, "
            "tweets",
        ),
        (
            {"corpus": "bbc_news", "split": "test_long"},
            "packaged corpus 'bbc_news' has splits train, dev, test",
        ),
    ],
)
def test_split_errors_are_exact(kwargs, message):
    split = kwargs.pop("split", "train")
    with pytest.raises(TunelabError) as caught:
        load_examples(split, **kwargs)
    assert str(caught.value) == message
