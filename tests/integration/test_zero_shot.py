"""Zero-shot classification: labels picked by cosine similarity to their descriptions, or by
an NLI model's entailment of them."""

import csv

import pytest
import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer

from tests.conftest import compose_train, eval_config, tiny_train_overrides
from tests.recompute import assert_classification_run_recomputed, predictions_agree_with_predict
from tunelab.errors import TunelabError
from tunelab.inference.eval import evaluate
from tunelab.tasks.classification.methods.zero_shot.module import label_descriptions
from tunelab.training.train import train

TEMPLATES = '["a story of {label} .","{label} said today ."]'


@pytest.fixture(scope="module")
def zero_shot_run(tmp_path_factory, tiny_bert, table_dir):
    run_dir = tmp_path_factory.mktemp("zero-shot")
    cfg = eval_config(
        run_dir,
        table_dir,
        "zero_shot=true",
        f"model_dir={tiny_bert}",
        f"templates={TEMPLATES}",
        "+data.label_descriptions={work: [acme works with hooli .]}",
        "export=true",
        "trainer.precision=32-true",
        data="csv",
    )
    return run_dir, evaluate(cfg)


def test_method_zero_shot_trains_nothing_and_scores_as_eval_does(
    tmp_path, zero_shot_run, tiny_bert, table_dir
):
    """`tunelab train method=zero_shot` is the same zero-shot classifier as `tunelab-eval
    zero_shot=true`: nothing trained, the same scores, an export that predicts."""
    _, evaluated = zero_shot_run
    overrides = [
        *tiny_train_overrides(tiny_bert, table_dir, data="csv"),
        "method=zero_shot",
        f"model.templates={TEMPLATES}",
        "data.label_descriptions={work: [acme works with hooli .]}",
        "trainer.precision=32-true",
    ]
    metrics = train(compose_train(tmp_path, overrides))
    assert metrics["test/acc"] == pytest.approx(evaluated["test/acc"])
    assert not list((tmp_path / "checkpoints").glob("*.ckpt"))
    saved = assert_classification_run_recomputed(tmp_path, ["travel", "work"])
    assert saved["test/acc"] == pytest.approx(metrics["test/acc"])
    (tmp_path / "predict").mkdir()
    predictions_agree_with_predict(tmp_path, tmp_path / "predict")


def test_scores_recomputed_from_the_predictions(zero_shot_run):
    run_dir, metrics = zero_shot_run
    saved = assert_classification_run_recomputed(run_dir, ["travel", "work"])
    assert saved == pytest.approx(metrics)


def test_each_text_gets_the_label_whose_descriptions_embed_closest(zero_shot_run, tiny_bert):
    run_dir, _ = zero_shot_run
    encoder = SentenceTransformer(str(tiny_bert), device="cpu")  # mean pooling, as tunelab's

    def embed(texts):
        return encoder.encode(texts, convert_to_tensor=True, normalize_embeddings=True)

    labels = {
        "travel": embed(["a story of travel .", "travel said today ."]).mean(0),
        "work": embed(["acme works with hooli ."])[0],  # the given description, no template
    }
    names = sorted(labels)
    centres = F.normalize(torch.stack([labels[n] for n in names]), dim=-1)
    with (run_dir / "predictions" / "test.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = [names[i] for i in (embed([r["text"] for r in rows]) @ centres.T).argmax(-1)]
    assert [r["pred"] for r in rows] == expected
    assert len(set(expected)) == 2  # a test where the two labels are both picked


def test_exported_zero_shot_model_predicts_the_same_labels(zero_shot_run, tmp_path):
    predictions_agree_with_predict(zero_shot_run[0], tmp_path)


def test_descriptions_default_to_templates_and_bad_ones_stop():
    assert label_descriptions(["a", "b"], ["about {label}", "{label}!"], {"b": "bee"}) == [
        ["about a", "a!"],
        ["bee"],
    ]
    assert label_descriptions(["card_arrival"], ["about {label}"]) == [["about card arrival"]]
    with pytest.raises(TunelabError, match="'c', not among the labels"):
        label_descriptions(["a", "b"], ["{label}"], {"c": "sea"})
    with pytest.raises(TunelabError, match="no \\{label\\}"):
        label_descriptions(["a"], ["no placeholder"])


def test_zero_shot_needs_classification_data(tmp_path, conll_dir):
    cfg = eval_config(tmp_path, conll_dir, "zero_shot=true")
    with pytest.raises(TunelabError, match="needs classification data"):
        evaluate(cfg)


HYPOTHESES = ["they went to paris .", "acme works with hooli ."]  # words in the tiny vocab


@pytest.fixture(scope="module")
def tiny_nli(tmp_path_factory, tiny_bert):
    """The tiny BERT with a random three-way NLI head (entailment last, as MNLI models)."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-nli")
    names = ["contradiction", "neutral", "entailment"]
    config = BertConfig.from_pretrained(
        tiny_bert,
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        initializer_range=0.5,  # entailment logits far enough apart to pick a label
    )
    with torch.random.fork_rng():
        torch.manual_seed(3)
        BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def nli_run(tmp_path_factory, tiny_nli, table_dir):
    run_dir = tmp_path_factory.mktemp("zero-shot-nli")
    cfg = eval_config(
        run_dir,
        table_dir,
        "zero_shot=true",
        f"model_dir={tiny_nli}",
        f"+data.label_descriptions={{travel: [{HYPOTHESES[0]}], work: [{HYPOTHESES[1]}]}}",
        "export=true",
        "trainer.precision=32-true",
        data="csv",
    )
    return run_dir, evaluate(cfg)


def test_nli_zero_shot_picks_what_the_transformers_pipeline_picks(nli_run, tiny_nli):
    from transformers import pipeline

    run_dir, _ = nli_run
    assert_classification_run_recomputed(run_dir, ["travel", "work"])
    with (run_dir / "predictions" / "test.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    classify = pipeline("zero-shot-classification", model=str(tiny_nli), device="cpu")
    texts = [r["text"] for r in rows]
    results = classify(texts, candidate_labels=HYPOTHESES, hypothesis_template="{}")
    names = dict(zip(HYPOTHESES, ["travel", "work"], strict=True))
    assert [r["pred"] for r in rows] == [names[result["labels"][0]] for result in results]
    assert [float(r["prob"]) for r in rows] == pytest.approx(
        [result["scores"][0] for result in results], abs=1e-5
    )
    assert len({r["pred"] for r in rows}) == 2  # both labels picked somewhere


def test_exported_nli_zero_shot_model_predicts_the_same_labels(nli_run, tmp_path):
    predictions_agree_with_predict(nli_run[0], tmp_path)


def test_zero_shot_reads_long_texts_in_windows_in_both_commands(tmp_path):
    from tunelab import tasks

    method = tasks.get("classification").method("zero_shot")
    trained = compose_train(tmp_path, ["data=bbc_news", "method=zero_shot"]).data
    assert dict(method.reading) == {"long_text": "windows"} == {"long_text": trained.long_text}
