"""Training on packed batches gives the model's scores and loss of plain padded batches."""

import logging

import pytest
import torch

from tunelab.tasks.ner.datamodule import TokenClassificationDataModule
from tunelab.tasks.ner.module import TokenClassificationModule


@pytest.fixture
def first_batch(tiny_bert, docs_dir):
    # Whole documents as training items beside their sentences: lengths vary several-fold.
    data = TokenClassificationDataModule.from_config(
        str(tiny_bert), dir=str(docs_dir), document_windows=True
    )
    data.setup("fit")
    by_length = sorted(data.encoded("train"), key=lambda item: len(item["input_ids"]))
    # the longest two and the shortest ten: short ones share rows
    return data.labels, data.train_collate(by_length[-2:] + by_length[:10])


def _plain(batch):
    return {k: v for k, v in batch.items() if not k.startswith("packed_") and k != "unpack"}


def test_packed_batch_gives_the_same_scores_and_loss(tiny_bert, first_batch):
    labels, batch = first_batch
    assert batch["packed_input_ids"].shape[0] < batch["input_ids"].shape[0]
    torch.manual_seed(0)
    module = TokenClassificationModule(str(tiny_bert), labels).eval()
    with torch.no_grad():
        packed = module.training_logits(batch)
        plain = module.training_logits(_plain(batch))
        real = batch["attention_mask"].bool()
        assert module._position_offset == 0
        assert torch.allclose(packed[real], plain[real], atol=1e-5)
        loss_packed = module.training_step(batch, 0)
        loss_plain = module.training_step(_plain(batch), 0)
    assert torch.allclose(loss_packed, loss_plain, atol=1e-6)


def test_roberta_positions_are_offset(tiny_bert, first_batch):
    from transformers import RobertaConfig, RobertaForTokenClassification

    labels, batch = first_batch
    module = TokenClassificationModule(str(tiny_bert), labels)
    config = RobertaConfig(
        vocab_size=200,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(labels),
        pad_token_id=1,
        max_position_embeddings=256,
        type_vocab_size=1,
    )
    module.model = RobertaForTokenClassification(config)
    module.training_logits(batch)
    assert module._position_offset == 2  # RoBERTa counts positions from padding id + 1


def test_model_that_cannot_pack_trains_on_padded_batches(tiny_bert, first_batch, caplog):
    labels, batch = first_batch
    module = TokenClassificationModule(
        str(tiny_bert), labels, peft={"method": "prefix", "num_virtual_tokens": 4}
    )
    with caplog.at_level(logging.WARNING):
        logits = module.training_logits(batch)
    assert module._position_offset is None
    assert "does not give the same scores for packed sentences" in caplog.text
    assert logits.shape[:2] == batch["input_ids"].shape
