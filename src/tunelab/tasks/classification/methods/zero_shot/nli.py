"""Zero-shot classification with a natural-language-inference model (Yin et al., 2019): each
label's description is a hypothesis, and the label whose hypotheses the text entails most (their
entailment logits averaged, then a softmax over the labels) is picked, as transformers'
zero-shot-classification pipeline does. Written here because that pipeline reads raw strings
one call at a time, while tunelab's data arrive as tokenized batches with their run contract."""

from __future__ import annotations

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.tasks.classification.methods.zero_shot.module import DescribedLabels
from tunelab.tasks.classification.module import SequenceClassificationModule


def entailment_id(model_name_or_path: str) -> int | None:
    """The index of the model's entailment label, or None for a model that has none."""
    labels = from_pretrained(AutoConfig, model_name_or_path).label2id or {}
    found = [i for name, i in labels.items() if str(name).lower().startswith("entail")]
    return found[0] if found else None


class NLIZeroShotModule(DescribedLabels, SequenceClassificationModule):
    """Args:
    model_name_or_path: an NLI model (sequence classification with an `entailment` label).
    labels: label names in id order.
    descriptions: per label, its hypotheses (`label_descriptions`).
    input_settings: how texts are read (the DataModule's settings; `max_length` bounds each
        text-hypothesis pair, the text cut to fit, as the pipeline's `only_first`).
    """

    method = "nli"

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        descriptions: list[list[str]],
        input_settings: dict | None = None,
        trust_remote_code: bool = False,
    ):
        self.entailment = entailment_id(model_name_or_path)
        if self.entailment is None:
            raise TunelabError(
                f"{model_name_or_path} has no entailment label in its config's label2id: "
                "not an NLI model"
            )
        super().__init__(
            model_name_or_path,
            labels,
            trust_remote_code=trust_remote_code,
            input_settings=input_settings,
        )
        self.descriptions = [list(texts) for texts in descriptions]
        self.tokenizer = from_pretrained(AutoTokenizer, model_name_or_path)
        limit = (input_settings or {}).get("max_length") or self.tokenizer.model_max_length
        self.limit = min(limit, self.model.config.max_position_embeddings)

    def build_model(self) -> torch.nn.Module:
        """The NLI model as it is: its own entailment head, not one sized for the labels."""
        path, remote = self.hparams.model_name_or_path, self.hparams.trust_remote_code
        auto = AutoModelForSequenceClassification
        return from_pretrained(auto, path, trust_remote_code=remote).eval()

    def export(self, directory: str, tokenizer=None) -> None:
        super().export(directory, tokenizer or self.tokenizer)

    def eval_logits(self, batch) -> torch.Tensor:
        """[batch, labels]: each label's mean entailment logit over its hypotheses. The texts
        are decoded and paired with each hypothesis as strings, as the pipeline pairs them
        (transformers 5 tokenizers no longer build pairs from ids)."""
        texts = self.tokenizer.batch_decode(batch["input_ids"], skip_special_tokens=True)
        firsts, seconds, owners = [], [], []
        for t, text in enumerate(texts):
            for label, hypotheses in enumerate(self.descriptions):
                firsts += [text] * len(hypotheses)
                seconds += hypotheses
                owners += [t * len(self.labels) + label] * len(hypotheses)
        device = batch["input_ids"].device
        inputs = self.tokenizer(
            firsts,
            seconds,
            truncation="only_first",
            max_length=self.limit,
            padding=True,
            return_tensors="pt",
        ).to(device)
        entail = self.model(**inputs).logits[:, self.entailment].float()
        cells = torch.tensor(owners, device=device)
        size = len(texts) * len(self.labels)
        sums = torch.zeros(size, device=device).index_add_(0, cells, entail)
        counts = torch.zeros(size, device=device).index_add_(0, cells, torch.ones_like(entail))
        return (sums / counts).view(len(texts), len(self.labels))
