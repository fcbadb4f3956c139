"""LightningModule for text classification: one label (softmax) or a label set (sigmoid)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import torch
import torch.nn.functional as F
import torchmetrics.functional.classification as tmf
from transformers import AutoConfig, AutoModelForSequenceClassification

from tunelab.data.unlabelled import check_taught
from tunelab.errors import TunelabError
from tunelab.models.base import Evaluation, TaskModule
from tunelab.models.teacher import hidden_state_loss, load_teacher, teacher_outputs
from tunelab.tasks.classification.distill import distill_loss


def classification_scores(
    probs: torch.Tensor, target: torch.Tensor, multi_label: bool, threshold: float = 0.5
) -> tuple[dict[str, float], torch.Tensor | None]:
    """Accuracy, micro/macro F1 and per-class precision/recall/F1 (torchmetrics), and the
    confusion matrix [gold, pred] for single-label data.

    Args:
        probs: [n, labels] probabilities; target: [n] label ids or [n, labels] multi-hot.
    """
    n = probs.shape[1]
    if multi_label:
        args = {"preds": probs, "target": target.int(), "num_labels": n, "threshold": threshold}
        scores = {
            "acc": tmf.multilabel_exact_match(**args),
            "f1_micro": tmf.multilabel_f1_score(**args, average="micro"),
            "f1_macro": tmf.multilabel_f1_score(**args, average="macro"),
        }
        per_class = {
            "precision": tmf.multilabel_precision(**args, average=None),
            "recall": tmf.multilabel_recall(**args, average=None),
            "f1": tmf.multilabel_f1_score(**args, average=None),
        }
        matrix = None
    else:
        args = {"preds": probs, "target": target, "num_classes": n}
        scores = {
            "acc": tmf.multiclass_accuracy(**args, average="micro"),
            "f1_micro": tmf.multiclass_f1_score(**args, average="micro"),
            "f1_macro": tmf.multiclass_f1_score(**args, average="macro"),
        }
        per_class = {
            "precision": tmf.multiclass_precision(**args, average=None),
            "recall": tmf.multiclass_recall(**args, average=None),
            "f1": tmf.multiclass_f1_score(**args, average=None),
        }
        matrix = tmf.multiclass_confusion_matrix(probs, target, num_classes=n)
    flat = {key: float(value) for key, value in scores.items()}
    for name, values in per_class.items():
        flat.update({f"{name}_{i}": float(v) for i, v in enumerate(values)})
    return flat, matrix


def loss_weights(
    labels: list[str], class_weights: str | list[float] | None, label_counts: list[int] | None
) -> torch.Tensor:
    """Per-label weights of the cross-entropy: given in label order, `auto` (inverse class
    frequency of the training split), or ones."""
    weights = torch.ones(len(labels))
    if isinstance(class_weights, list | tuple):
        if len(class_weights) != len(labels):
            raise ValueError(f"class_weights has {len(class_weights)} values for labels {labels}")
        weights = torch.tensor(class_weights, dtype=torch.float)
    elif class_weights == "auto" and label_counts is not None:
        counts = torch.tensor(label_counts, dtype=torch.float)
        weights = counts.sum() / (len(counts) * counts.clamp(min=1))
    return weights


class SequenceClassificationModule(TaskModule):
    """Fine-tunes `AutoModelForSequenceClassification`.

    Args (beyond TaskModule's):
        multi_label: sigmoid outputs and binary cross-entropy; labels predicted above `threshold`.
        class_weights: `auto` (inverse class frequency of the training split), a list in label
            order, or None. Weights the cross-entropy of single-label training.
        threshold: decision threshold for multi-label prediction.
        teacher: a model to distil from (continual learning: the previous step's), whose labels
            are this model's first ones; every text also teaches the teacher's view of it over
            those labels (`tunelab.tasks.classification.distill`).
        distill_temperature: the softmax temperature of that distillation.
        distill_weight: the weight of the teacher's term against the gold labels' (single-label).
        distill_hidden: the weight of matching each layer's hidden states to those of the
            teacher layer it was cut from (`tunelab.models.teacher.hidden_state_loss`); None: off.
        keep_layers: a student of this many of the model's layers (`tunelab.models.student`).
    """

    task = "classification"
    peft_task_type = "SEQ_CLS"

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        multi_label: bool = False,
        class_weights: str | list[float] | None = None,
        threshold: float = 0.5,
        trust_remote_code: bool = False,
        peft: dict | None = None,
        input_settings: dict | None = None,
        label_counts: list[int] | None = None,
        teacher: str | None = None,
        distill_temperature: float = 2.0,
        distill_weight: float = 1.0,
        keep_layers: int | None = None,
        distill_hidden: float | None = None,
    ):
        if multi_label and distill_weight != 1.0:
            raise TunelabError(
                "model.distill_weight weighs single-label distillation: multi-label runs keep 1"
            )
        super().__init__(
            model_name_or_path,
            labels,
            optimizer,
            scheduler,
            trust_remote_code,
            peft,
            input_settings,
            keep_layers,
        )
        self.multi_label, self.threshold, self.class_weights = multi_label, threshold, class_weights
        self.model = self.build_model()
        # Not persistent: recomputed from the data each run, never needed to load a checkpoint.
        weights = loss_weights(self.labels, class_weights, label_counts)
        self.register_buffer("loss_weights", weights, persistent=False)
        # In a list: never trained, saved nor counted as this module's parameters.
        self.teacher = []
        if teacher:
            classes = AutoModelForSequenceClassification
            hidden = bool(distill_hidden)
            self.teacher = [load_teacher(teacher, model_name_or_path, self.labels, classes, hidden)]
        self._outputs: dict[tuple[int, int], torch.Tensor] = {}

    def build_model(self) -> torch.nn.Module:
        """The network that scores texts: a Hugging Face classifier with a fresh head. The hook
        a method overrides (SetFit and zero-shot: a sentence encoder; prompts: a masked LM;
        NLI: an entailment model as it is), everything else of the classifier kept."""
        problem = "multi_label" if self.multi_label else "single_label"
        auto = AutoModelForSequenceClassification
        return self.pretrained(auto, problem_type=f"{problem}_classification")

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        settings = settings or {}
        multi = settings.get("multi_label")
        if multi is None:  # a Hugging Face classifier records it in its config
            problem = AutoConfig.from_pretrained(model_dir).problem_type
            multi = problem == "multi_label_classification"
        threshold = settings.get("threshold", 0.5)
        return super().from_exported(
            model_dir, settings, multi_label=multi, threshold=threshold, **kwargs
        )

    def exported_settings(self) -> dict:
        return {**super().exported_settings(), "threshold": self.threshold}

    def training_step(self, batch, batch_idx):
        check_taught(batch["label"], self.teacher)
        states = None
        if self.distills_hidden:
            logits, states = self.padded_outputs(batch, hidden=True)
        else:
            logits = self.padded_logits(batch)  # a method's own scores (prompts)
        if self.teacher:
            inputs = self.model_inputs(batch)
            taught, taught_states = teacher_outputs(self.teacher[0], inputs, states is not None)
            loss = distill_loss(
                logits,
                taught,
                batch["label"],
                self.multi_label,
                self.hparams.distill_temperature,
                self.loss_weights,
                self.hparams.distill_weight,
            )
            if states is not None:
                taught_hidden = hidden_state_loss(states, taught_states, batch["attention_mask"])
                loss = loss + self.hparams.distill_hidden * taught_hidden
        elif self.multi_label:
            loss = F.binary_cross_entropy_with_logits(logits, batch["label"].float())
        else:
            loss = F.cross_entropy(logits, batch["label"], weight=self.loss_weights)
        self.log("train/loss", loss, prog_bar=True, batch_size=logits.shape[0])
        return loss

    def probabilities(self, logits: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """Sigmoid (multi-label) or softmax of the logits at the model's temperature (or the
        one given): the calibrated probabilities once `tunelab.trust.calibration` fitted one."""
        if self.multi_label:
            return logits.sigmoid()
        return (logits / (temperature or self.temperature)).softmax(-1)

    def eval_logits(self, batch) -> torch.Tensor:
        """[rows, labels] scores of an evaluation batch."""
        return self.model(**self.model_inputs(batch)).logits

    def embed(self, batch) -> torch.Tensor:
        """[rows, dim] the encoder's last hidden states averaged over each row's sub-tokens
        (fp32): what retrieval compares (methods on a sentence encoder use its own pooling)."""
        hidden = self.model.base_model(**self.model_inputs(batch)).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)

    def window_logits(self, batch) -> dict[tuple[int, int], torch.Tensor]:
        """(example, window) -> logits, for every row of the batch."""
        logits = self.eval_logits(batch).float().cpu()
        keys = zip(batch["example"].tolist(), batch["window"].tolist(), strict=True)
        return {key: logits[row] for row, key in enumerate(keys)}

    def example_logits(
        self, outputs: dict[tuple[int, int], torch.Tensor]
    ) -> dict[int, torch.Tensor]:
        """Each example's logits: the average of its windows'."""
        grouped = defaultdict(list)
        for (example, _), logits in outputs.items():
            grouped[example].append(logits)
        return {e: torch.stack(v).mean(0) for e, v in sorted(grouped.items())}

    def example_probs(
        self, outputs: dict[tuple[int, int], torch.Tensor]
    ) -> dict[int, torch.Tensor]:
        """Average each example's window logits, then turn them into probabilities."""
        return {e: self.probabilities(v) for e, v in self.example_logits(outputs).items()}

    def validation_step(self, batch, batch_idx):
        self._outputs.update(self.window_logits(batch))

    test_step = validation_step

    def on_validation_epoch_start(self):
        self._outputs = {}

    on_test_epoch_start = on_validation_epoch_start

    def _score(self, prefix: str) -> None:
        """Score the epoch's texts against `self.references[prefix]`: a label id per text, or a
        multi-hot list per text (multi-label)."""
        logits = self.example_logits(self._gathered())
        probs = {example: self.probabilities(values) for example, values in logits.items()}
        targets = self.references[prefix]
        done = list(probs)  # fast_dev_run / limit_*_batches: only the predicted examples
        target = torch.tensor([targets[i] for i in done])
        flat, matrix = classification_scores(
            torch.stack([probs[i] for i in done]), target, self.multi_label, self.threshold
        )
        scores = {f"{prefix}/{self._named(key)}": value for key, value in flat.items()}
        if prefix == "val":  # for the learning curves; test scores come from the predictions
            stacked = torch.stack([probs[i] for i in done])
            scores["val/loss"] = self.example_loss(stacked, target)
        main = f"{prefix}/f1_macro"
        self.log(main, scores[main], prog_bar=True)
        self.log_dict({k: v for k, v in scores.items() if k != main})
        self._outputs = {}
        self.evaluations[prefix] = Evaluation(scores, probs, matrix, logits)

    def uncalibrated_reason(self) -> str | None:
        if self.multi_label:  # sigmoid(z / T) >= threshold would move the decisions
            return "multi-label decisions hang on the threshold, which a temperature would move"
        return None

    def decision_events(self, prefix: str, temperature: float) -> tuple:
        """(top probability, whether the top label is the gold one) of each text."""
        evaluation = self.evaluation(prefix)
        done = sorted(evaluation.outputs)
        logits = torch.stack([evaluation.outputs[i] for i in done]).float()
        probs = self.probabilities(logits, temperature)
        target = torch.tensor([self.references[prefix][i] for i in done])
        top, chosen = probs.max(-1)
        return top.numpy(), (chosen == target).numpy()

    def set_temperature(self, temperature: float) -> None:
        super().set_temperature(temperature)
        for evaluation in self.evaluations.values():  # the files written next report these
            for example, logits in evaluation.outputs.items():
                evaluation.predictions[example] = self.probabilities(logits)

    def example_loss(self, probs: torch.Tensor, target: torch.Tensor) -> float:
        """Mean negative log-likelihood of the gold labels under the texts' probabilities (the
        validation loss, unweighted, from the same outputs as the scores)."""
        probs = probs.float().clamp(1e-7, 1 - 1e-7)
        if self.multi_label:
            return F.binary_cross_entropy(probs, target.float()).item()
        return F.nll_loss(probs.log(), target).item()

    def _named(self, key: str) -> str:
        """`f1_3` -> `f1_<label 3>`; aggregate keys unchanged."""
        name, _, index = key.rpartition("_")
        return f"{name}_{self.labels[int(index)]}" if index.isdigit() else key

    def on_validation_epoch_end(self):
        self._score("val")

    def on_test_epoch_end(self):
        self._score("test")
