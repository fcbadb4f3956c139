"""scripts/unlabelled_sentences.py: news text cut into CoNLL-style sentences for a student."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "unlabelled_sentences.py"
spec = importlib.util.spec_from_file_location("unlabelled_sentences", SCRIPT)
unlabelled_sentences = importlib.util.module_from_spec(spec)
spec.loader.exec_module(unlabelled_sentences)


def test_sentences_end_at_full_stops_but_not_after_titles_or_initials():
    text = (
        "Mr. Smith flew to Washington, D.C. on Monday. Shares of U.S. firms rose 2.5% to "
        '$3.2bn. "We are pleased!" Short one. Ends'
    )
    assert unlabelled_sentences.sentences([text]) == [
        "Mr. Smith flew to Washington , D.C. on Monday .",
        "Shares of U.S. firms rose 2.5 % to $ 3.2bn .",
        '" We are pleased ! "',
    ]


def test_sentences_keep_only_the_length_range():
    # the full stop is a word: 40 words and a stop are one too many
    text = " ".join(["Word"] * 40) + ". " + " ".join(["Word"] * 39) + "."
    assert [len(s.split()) for s in unlabelled_sentences.sentences([text])] == [40]
