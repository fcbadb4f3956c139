import torch

from tunelab.models.optim import parameter_groups, warmup_schedule


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(4, 4)
        self.LayerNorm = torch.nn.LayerNorm(4)
        self.frozen = torch.nn.Linear(4, 4)
        self.frozen.weight.requires_grad_(False)


def test_no_decay_on_bias_and_layernorm():
    model = Tiny()
    decay, no_decay = parameter_groups(model, 0.01)
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model.dense.weight)}
    expected = {model.dense.bias, model.LayerNorm.weight, model.LayerNorm.bias, model.frozen.bias}
    assert {id(p) for p in no_decay["params"]} == {id(p) for p in expected}


def test_linear_warmup_then_decay():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = warmup_schedule(optimizer, total_steps=10, warmup_ratio=0.2)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert rates[:3] == [0.0, 0.5, 1.0]
    assert rates[2:] == sorted(rates[2:], reverse=True) and rates[-1] < 0.2


def test_fused_adamw_gradients_are_clipped_without_a_scaler(tiny_bert):
    from types import SimpleNamespace

    from tunelab.tasks.ner.module import TokenClassificationModule

    module = TokenClassificationModule(str(tiny_bert), ["O", "B-PER", "I-PER"])
    module._trainer = SimpleNamespace(precision_plugin=SimpleNamespace(scaler=None))
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-3, fused=True)
    for param in module.parameters():
        param.grad = torch.full_like(param, 5.0)
    module.configure_gradient_clipping(optimizer, 1.0, "norm")
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in module.parameters()]))
    assert abs(norm.item() - 1.0) < 1e-4
    module.configure_gradient_clipping(optimizer, 0.5, "value")
    assert max(p.grad.abs().max().item() for p in module.parameters()) <= 0.5
