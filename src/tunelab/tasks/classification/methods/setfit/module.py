"""SetFit (Tunstall et al., 2022): the sentence encoder is tuned so that texts of one label
embed close together and texts of different labels apart, then a logistic regression on the
embeddings labels them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.linear_model import LogisticRegression

from tunelab.errors import TunelabError
from tunelab.tasks.classification.embedding import EmbeddingClassifier
from tunelab.tasks.classification.methods.setfit.pairs import pair_loss, softmax_pair_loss

HEAD_FILE = "head.safetensors"
# model.loss: SetFit's cosine regression of every pair, or the in-batch softmax (retrieval)
LOSSES = {"cosine": pair_loss, "softmax": softmax_pair_loss}
FAR = 1e4  # the logit gap for a label the head never saw one way or the other


def fit_head(embeddings: np.ndarray, targets: np.ndarray, n_labels: int, multi_label: bool):
    """(weight [n_labels, dim], bias [n_labels]) of logistic regressions on the embeddings:
    one multinomial model (single-label; its scores are the logits of a softmax), or one
    binary model per label (multi-label; logits of a sigmoid). A label absent from the
    targets gets a bias that rules it out."""
    dim = embeddings.shape[1]
    weight, bias = np.zeros((n_labels, dim)), np.full(n_labels, -FAR)
    if multi_label:
        for label in range(n_labels):
            column = targets[:, label]
            if column.min() == column.max():
                bias[label] = FAR if column[0] else -FAR
                continue
            model = LogisticRegression().fit(embeddings, column)
            weight[label], bias[label] = model.coef_[0], model.intercept_[0]
        return weight, bias
    model = LogisticRegression().fit(embeddings, targets)
    classes = model.classes_.astype(int)
    if len(classes) == 1:
        bias[classes[0]] = 0.0
    elif len(classes) == 2:  # one score z: softmax over (0, z) gives the same probabilities
        weight[classes[1]], bias[classes[0]] = model.coef_[0], 0.0
        bias[classes[1]] = model.intercept_[0]
    else:
        weight[classes], bias[classes] = model.coef_, model.intercept_
    return weight, bias


class SetFitModule(EmbeddingClassifier):
    """Contrastive fine-tuning of a sentence encoder on the pairs of each training batch
    (`pairs.pair_loss`), and a logistic-regression head fitted on the training texts'
    embeddings before every evaluation (so the head always matches the encoder scored).

    Args:
        model_name_or_path: a sentence encoder (sentence-transformers folder or hub id).
        labels, optimizer, scheduler, multi_label, threshold, input_settings, trust_remote_code:
            as for the classification module.
        peft: only `none`: the whole encoder is tuned.
        loss: `cosine` (SetFit's: each pair's cosine pushed to 1 or 0) or `softmax` (each text's
            partners of its label ranked above the rest of the batch; `pairs.softmax_pair_loss`).
    """

    task = "classification"
    method = "setfit"

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        multi_label: bool = False,
        threshold: float = 0.5,
        trust_remote_code: bool = False,
        peft: dict | None = None,
        input_settings: dict | None = None,
        loss: str = "cosine",
    ):
        if (peft or {}).get("method", "none") != "none":
            raise TunelabError("method=setfit tunes the whole encoder: leave peft=none")
        if loss not in LOSSES:
            raise TunelabError(f"model.loss={loss!r}; choose one of {', '.join(LOSSES)}")
        super().__init__(
            model_name_or_path,
            labels,
            optimizer,
            scheduler,
            multi_label=multi_label,
            threshold=threshold,
            trust_remote_code=trust_remote_code,
            peft=peft,
            input_settings=input_settings,
        )
        self.loss = LOSSES[loss]
        dim = self.model.get_sentence_embedding_dimension()
        self.register_buffer("head_weight", torch.zeros(len(self.labels), dim))
        self.register_buffer("head_bias", torch.zeros(len(self.labels)))
        self.model.train()
        self._train_batches: list[dict] = []

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        module = super().from_exported(model_dir, settings, **kwargs)
        head = load_file(str(Path(model_dir) / HEAD_FILE))
        module.head_weight.copy_(head["weight"])
        module.head_bias.copy_(head["bias"])
        return module

    def export(self, directory: str, tokenizer=None) -> None:
        super().export(directory, tokenizer)
        head = {"weight": self.head_weight.contiguous(), "bias": self.head_bias.contiguous()}
        save_file(head, str(Path(directory) / HEAD_FILE))

    def head_logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return embeddings @ self.head_weight.T + self.head_bias

    def training_step(self, batch, batch_idx):
        loss = self.loss(self.embed(batch), batch["label"])
        self._train_batches.append({k: v.detach().cpu() for k, v in batch.items()})
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def on_train_epoch_start(self):
        self._train_batches = []  # each epoch sees every training text: keep the last epoch's

    @torch.no_grad()
    def refit_head(self) -> None:
        """Fit the head on the embeddings of the training texts seen in the last epoch, with
        the encoder as it is now (in eval mode, fp32)."""
        if not self._train_batches:
            return  # nothing trained yet (sanity check), or loaded with its head
        with self.reference_mode():
            batches = [{k: v.to(self.device) for k, v in b.items()} for b in self._train_batches]
            embeddings = torch.cat([self.embed(b) for b in batches]).cpu().numpy()
        targets = torch.cat([b["label"] for b in self._train_batches]).numpy()
        weight, bias = fit_head(embeddings, targets, len(self.labels), self.multi_label)
        self.head_weight.copy_(torch.as_tensor(weight, dtype=torch.float))
        self.head_bias.copy_(torch.as_tensor(bias, dtype=torch.float))

    def on_validation_epoch_start(self):
        super().on_validation_epoch_start()
        self.refit_head()

    def on_test_epoch_start(self):
        super().on_test_epoch_start()
        self.refit_head()
