"""Soft prompts for method=prompt: trained vectors put before every templated text while the
masked LM, its head included, stays frozen (`peft=prompt_tuning`, Lester et al., 2021;
`peft=p_tuning`, Liu et al., 2021, whose vectors come out of a small trained encoder). peft
builds and initialises them; an export keeps only the vectors they come to."""

from __future__ import annotations

import torch

from tunelab.models.peft_methods import SOFT_PROMPTS, apply_peft


class SoftPrompt(torch.nn.Module):
    """`length` vectors of the model's hidden size: made by peft's prompt encoder while
    training, or fixed (loaded from an export)."""

    def __init__(self, length: int, dim: int, encoder: torch.nn.Module | None = None):
        super().__init__()
        self.encoder = encoder
        self.register_buffer("positions", torch.arange(length), persistent=False)
        self.register_buffer("fixed", torch.zeros(length, dim))

    @classmethod
    def build(cls, model: torch.nn.Module, settings: dict) -> SoftPrompt:
        """peft's prompt encoder for `settings` (`method` and peft's keys); freezes `model`."""
        assert settings["method"] in SOFT_PROMPTS
        wrapped = apply_peft(model, settings, "FEATURE_EXTRACTION")
        length = int(settings["num_virtual_tokens"])
        return cls(length, model.config.hidden_size, wrapped.prompt_encoder["default"])

    def forward(self) -> torch.Tensor:
        """[length, hidden]."""
        if self.encoder is None:
            return self.fixed
        return self.encoder(self.positions[None])[0]

    def prepend(self, embeddings: torch.Tensor, attention_mask: torch.Tensor):
        """The vectors before each row's input embeddings; the mask widened to match."""
        vectors = self().to(embeddings.dtype)
        rows = len(embeddings)
        embeddings = torch.cat([vectors.expand(rows, -1, -1), embeddings], dim=1)
        ones = attention_mask.new_ones(rows, len(vectors))
        return embeddings, torch.cat([ones, attention_mask], dim=1)
