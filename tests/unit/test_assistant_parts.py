"""The assistant's parts on hand-computed cases: the unsure threshold, retrieval scores, the
answer table and what a record gains."""

import numpy as np
import pytest
import torch

from tunelab.apps.assistant.answers import Assistant, read_answers
from tunelab.apps.assistant.index import QuestionIndex, retrieval_scores
from tunelab.errors import CorpusError
from tunelab.trust.abstain import answered_scores, threshold_for_precision


def test_the_threshold_answers_the_most_texts_at_the_precision_asked():
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([1, 1, 0, 1, 0], dtype=bool)
    # answered from the top: precision 1, 1, 2/3, 3/4, 3/5
    assert threshold_for_precision(confidence, correct, 0.75) == 0.6
    assert threshold_for_precision(confidence, correct, 0.9) == 0.8
    assert threshold_for_precision(confidence, correct, 0.5) == 0.5
    assert answered_scores(confidence, correct, 0.6) == {
        "precision": 0.75,
        "answered": 0.8,
        "count": 4,
    }


def test_equal_confidences_are_answered_together_and_an_unreachable_target_answers_none():
    confidence = np.array([0.9, 0.8, 0.8, 0.4])
    correct = np.array([1, 1, 0, 1], dtype=bool)
    # cutting between the two 0.8s is impossible: 2/3 at 0.8, so 0.9 for precision 0.9
    assert threshold_for_precision(confidence, correct, 0.9) == 0.9
    never = threshold_for_precision(confidence, np.zeros(4, dtype=bool), 0.5)
    assert never > 0.9 and answered_scores(confidence, correct, never)["count"] == 0


def test_recall_at_k_and_mrr_by_hand():
    found = [["a", "b"], ["b", "a"], ["b", "b"]]
    scores = retrieval_scores(found, ["a", "a", "a"], ks=(1, 2))
    assert scores == {
        "recall@1": pytest.approx(1 / 3),
        "recall@2": pytest.approx(2 / 3),
        "mrr": pytest.approx((1 + 0.5 + 0) / 3),
    }


def test_the_index_finds_the_nearest_question_and_survives_a_save(tmp_path):
    vectors = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    index = QuestionIndex.build(["card", "fee", "both"], ["c", "f", "b"], vectors)
    ((first, second),) = index.search(torch.tensor([[0.0, 1.0]]), 2)
    assert (first["text"], first["score"]) == ("fee", 1.0)
    assert second["intent"] == "b" and second["score"] == pytest.approx(2**-0.5, abs=1e-6)
    index.save(tmp_path)
    loaded = QuestionIndex.load(tmp_path)
    assert loaded.texts == index.texts and torch.equal(loaded.embeddings, index.embeddings)


def test_an_answer_table_names_the_row_of_an_unknown_or_repeated_intent(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("intent,answer\nfee,It costs 1%.\ncard,In 5 days.\n")
    assert read_answers(str(path), ["card", "fee"]) == {"fee": "It costs 1%.", "card": "In 5 days."}
    path.write_text("intent,answer\nfee,It costs 1%.\nloan,No.\n")
    with pytest.raises(
        CorpusError, match=r"answers.csv:3: intent 'loan' is not one of the model's"
    ):
        read_answers(str(path), ["card", "fee"])
    path.write_text("intent,answer\nfee,a\nfee,b\n")
    with pytest.raises(CorpusError, match=r"answers.csv:3: intent 'fee' has a second answer"):
        read_answers(str(path), ["card", "fee"])


def test_a_record_below_the_threshold_is_unsure_and_shows_similar_questions():
    index = QuestionIndex.build(["q"], ["fee"], torch.ones(1, 2))
    helper = Assistant({"fee": "It costs 1%."}, threshold=0.7, similar=1, index=index)
    records = [
        {"text": "sure", "label": "fee", "probabilities": {"fee": 0.9, "card": 0.1}},
        {"text": "maybe", "label": "card", "probabilities": {"fee": 0.4, "card": 0.6}},
    ]
    asked = []

    def search(texts, k):
        asked.append((texts, k))
        return [[{"text": "q", "intent": "fee", "score": 1.0}] for _ in texts]

    sure, maybe = helper.respond(records, search)
    assert asked == [(["maybe"], 1)]
    assert (sure["answer"], sure["unsure"], sure["probability"]) == ("It costs 1%.", False, 0.9)
    assert "similar" not in sure
    assert (maybe["answer"], maybe["unsure"], maybe["similar"][0]["text"]) == (None, True, "q")
