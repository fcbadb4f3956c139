"""tunelab's CPU dropout: PyTorch's dropout semantics with masks drawn 16 bits per element, and
the eager attention that uses it for padded training batches where it gives the same outputs."""

import pytest
import torch
from transformers import AttentionInterface, BertModel

from tunelab.speed.dropout import (
    ATTENTION,
    Dropout,
    eager_attention,
    fast_dropout,
    use_fast_dropout,
)
from tunelab.tasks.classification.module import SequenceClassificationModule


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_drops_share_p_and_scales_the_rest(dtype):
    torch.manual_seed(0)
    x = torch.ones(400_000, dtype=dtype)
    y = fast_dropout(x, 0.1)
    assert y.dtype == dtype and y.shape == x.shape
    dropped = float((y == 0).double().mean())
    assert abs(dropped - 0.1) < 5 * (0.1 * 0.9 / x.numel()) ** 0.5  # five standard errors
    assert torch.allclose(y[y != 0].float(), torch.tensor(1 / 0.9), rtol=1e-2)


def test_masks_vary_along_every_lane_of_a_draw():
    # Four elements share one 64-bit draw; each of its 16-bit lanes must be its own coin.
    torch.manual_seed(1)
    dropped = fast_dropout(torch.ones(400_000), 0.5).view(-1, 4) == 0
    shares = dropped.double().mean(0)
    assert torch.allclose(shares, torch.full((4,), 0.5, dtype=torch.float64), atol=0.005)
    assert float((dropped[:, 0] == dropped[:, 3]).double().mean()) == pytest.approx(0.5, abs=0.005)


def test_gradient_is_the_mask_and_seeds_repeat():
    x = torch.randn(3, 1000, requires_grad=True)
    torch.manual_seed(2)
    y = fast_dropout(x, 0.3)
    y.sum().backward()
    kept = y != 0
    assert torch.allclose(x.grad[kept], torch.tensor(1 / 0.7))
    assert bool((x.grad[~kept] == 0).all())
    torch.manual_seed(2)
    assert torch.equal(fast_dropout(x, 0.3), y)


def test_off_when_not_training_or_p_is_zero():
    x = torch.randn(10)
    assert fast_dropout(x, 0.1, training=False) is x
    assert fast_dropout(x, 0.0) is x
    assert bool((fast_dropout(x, 1.0) == 0).all())


def test_use_fast_dropout_swaps_plain_dropout_only():
    class Custom(torch.nn.Dropout):
        pass

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.2), Custom(0.3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    use_fast_dropout(model)
    assert type(model[1]) is Dropout and model[1].p == 0.2
    assert type(model[2]) is Custom
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_attention_matches_transformers_eager_attention(tiny_bert):
    model = BertModel.from_pretrained(tiny_bert, attn_implementation="eager").eval()
    torch.manual_seed(3)
    ids = torch.randint(0, model.config.vocab_size, (3, 9))
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[1, 5:] = 0
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).last_hidden_state
        model.config._attn_implementation = ATTENTION
        got = model(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    assert torch.allclose(got[real], expected[real], atol=1e-6)


def _padded_batch(vocab_size: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(4)
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[1, 5:] = 0
    return {"input_ids": torch.randint(5, vocab_size, (3, 9)), "attention_mask": mask}


def _attention_seen(module) -> list[str]:
    """Records the attention implementation the first layer's attention runs under."""
    seen = []
    config = module.model.config
    layer = module.model.bert.encoder.layer[0].attention.self
    layer.register_forward_pre_hook(lambda *_: seen.append(config._attn_implementation))
    return seen


def test_padded_training_batches_run_tunelab_attention_on_cpu(tiny_bert):
    module = SequenceClassificationModule(str(tiny_bert), ["neg", "pos"])
    batch = _padded_batch(module.model.config.vocab_size)
    seen = _attention_seen(module)
    module.padded_logits(batch)
    assert module._cpu_attention is True
    assert seen[-1] == ATTENTION and module.model.config._attn_implementation != ATTENTION
    module.eval()  # no dropout: the same logits as with the model's own attention
    with torch.no_grad():
        assert torch.allclose(module.padded_logits(batch), module.model(**batch).logits, atol=1e-5)


def test_padded_training_keeps_the_model_attention_where_scores_differ(tiny_bert, monkeypatch):
    def wrong(module, query, key, value, attention_mask, **kwargs):
        return eager_attention(module, query, key, value, None, **kwargs)  # ignores the mask

    monkeypatch.setitem(AttentionInterface._global_mapping, ATTENTION, wrong)
    module = SequenceClassificationModule(str(tiny_bert), ["neg", "pos"])
    seen = _attention_seen(module)
    module.padded_logits(_padded_batch(module.model.config.vocab_size))
    assert module._cpu_attention is False
    assert seen[-1] != ATTENTION
