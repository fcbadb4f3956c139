"""Reading long inputs: running text in training, windows sized to training, sentence pieces."""

from tunelab.data.alignment import IGNORE
from tunelab.tasks.ner.datamodule import TokenClassificationDataModule


def datamodule(tiny_bert, folder, **settings) -> TokenClassificationDataModule:
    return TokenClassificationDataModule.from_config(
        str(tiny_bert), dir=str(folder), cache_dir=None, **settings
    )


def test_running_text_keeps_every_word_and_the_sentences_per_batch(tiny_bert, docs_dir):
    plain = datamodule(tiny_bert, docs_dir, batch_size=16, running_text=0.0)
    joined = datamodule(tiny_bert, docs_dir, batch_size=16, running_text=1.0, running_length=40)
    sentences = plain.sentences("train")
    items = joined.encoded("train")
    assert len(plain.encoded("train")) == len(sentences) > len(items)
    assert sum(item.get("weight", 1) for item in items) == len(sentences)
    labelled = sum(sum(label != IGNORE for label in item["labels"]) for item in items)
    assert labelled == sum(len(s.words) for s in sentences)  # every word once, labelled
    assert max(len(item["input_ids"]) for item in items) <= 40
    assert plain.train_batch_size() == 16
    assert joined.train_batch_size() == round(16 * len(items) / len(sentences)) < 16
    # evaluation splits are never joined
    assert len(joined.encoded("test")) == len(joined.sentences("test"))


def test_evaluation_windows_follow_the_training_items(tiny_bert, docs_dir, conll_dir, tmp_path):
    plain = datamodule(tiny_bert, docs_dir, running_text=0.0)
    for name in ("train.txt", "dev.txt", "test.txt"):  # conll_dir's sentences as one document
        (tmp_path / name).write_text("-DOCSTART- O\n\n" + (conll_dir / name).read_text())
    # runs of up to 96 sub-tokens, half of them joined
    assert datamodule(tiny_bert, tmp_path, running_length=96).window == (96, 48)
    # no document marked: no sentences joined, windows sized by the sentences
    assert datamodule(tiny_bert, conll_dir, running_length=96).window == (64, 32)
    assert plain.window == (64, 32)  # short training sentences: the smallest window
    assert datamodule(tiny_bert, docs_dir, eval_window=None).window == (512, 128)
    assert datamodule(tiny_bert, docs_dir, eval_window=96).window == (96, 48)
    settings = plain.input_settings()
    assert (settings["max_length"], settings["stride"], settings["eval_window"]) == (64, 32, None)
    assert settings["datamodule"].endswith("TokenClassificationDataModule")
    assert "batch_size" not in settings and "tokenizer" not in settings


def test_by_sentence_reads_a_long_text_in_sentence_pieces(tiny_bert):
    from transformers import AutoTokenizer

    from tunelab.data.alignment import encode_sentences

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert))
    words = "john went to paris . mary works for acme . anna met omar today".split()
    labels = [[0] * len(words)]
    short = encode_sentences(tokenizer, [words], labels, 64, stride=8, by_sentence=True)
    assert len(short) == 1  # fits in one window: read whole
    pieces = encode_sentences(tokenizer, [words], labels, 10, stride=4, by_sentence=True)
    read = [[words[w] for w in item["word_index"] if w >= 0] for item in pieces]
    assert read == [words[:5], words[5:10], words[10:]]
    windows = encode_sentences(tokenizer, [words], labels, 10, stride=4)
    assert [item["word_index"][1] for item in windows][1] not in (5, 10)  # cuts mid-sentence
