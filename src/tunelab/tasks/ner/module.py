"""LightningModule for NER: a Hugging Face token-classification model, scored per word."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import AutoModelForTokenClassification

from tunelab.data.alignment import IGNORE
from tunelab.data.batching import block_diagonal_mask
from tunelab.data.unlabelled import check_taught
from tunelab.data.windows import merge_windows
from tunelab.errors import TunelabError
from tunelab.models.base import UNCHECKED, Evaluation, TaskModule
from tunelab.models.teacher import (
    gold_and_soft_loss,
    gold_and_teacher_loss,
    hidden_state_loss,
    load_teacher,
    teacher_outputs,
)
from tunelab.speed.dropout import ATTENTION, attention_implementation
from tunelab.tasks.ner.agreement import entities
from tunelab.tasks.ner.crf import CRF, word_rows
from tunelab.tasks.ner.distill import distill_loss
from tunelab.tasks.ner.metrics import ner_scores
from tunelab.tasks.ner.spans import (
    allowed_starts,
    allowed_transitions,
    tags_to_spans,
    viterbi_many,
)

DECODERS = ("viterbi", "argmax")
DISTILL_ON = ("outside", "all")
log = logging.getLogger(__name__)


class TokenClassificationModule(TaskModule):
    """Fine-tunes `AutoModelForTokenClassification`; predicts one tag per word.

    Each word's scores come from its first sub-token. Words are decoded into tags with `decode`:
    `viterbi` (default) picks the most probable sequence with no I-X after anything but B-X/I-X;
    `argmax` takes each word's top label on its own.

    Args (beyond TaskModule's):
        decode: `viterbi` or `argmax`.
        crf: add a CRF layer over the words' scores, trained with the CRF loss; Viterbi then
            adds its learned transition scores.
        crf_lr_scale: the CRF's learning rate as a multiple of the encoder's. Its scores start
            at zero and need to move far; at an encoder's rate (1e-4) they barely would.
        teacher: a model to distil from (continual learning: the previous step's), whose labels
            are this model's first ones; where the data says O the student learns its soft
            labels (`tunelab.tasks.ner.distill`).
        distill_temperature: the softmax temperature of that distillation.
        distill_on: `outside` (continual learning: the teacher's soft labels where the data
            says O) or `all` (a smaller student, `tunelab distill`: on every labelled sub-token,
            besides the gold label; from a teacher with a CRF, its marginals on every word).
        distill_weight: with `all`, the weight of the teacher's term against the gold labels'.
        distill_hidden: the weight of matching each layer's hidden states to those of the
            teacher layer it was cut from (`tunelab.models.teacher.hidden_state_loss`); None: off.
        keep_layers: a student of this many of the model's layers (`tunelab.models.student`).
    """

    CRF_FILE = "crf.safetensors"  # beside the exported Hugging Face model
    task = "ner"
    peft_task_type = "TOKEN_CLS"

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        decode: str = "viterbi",
        crf: bool = False,
        crf_lr_scale: float = 100.0,
        trust_remote_code: bool = False,
        peft: dict | None = None,
        input_settings: dict | None = None,
        teacher: str | None = None,
        distill_temperature: float = 2.0,
        distill_on: str = "outside",
        distill_weight: float = 1.0,
        keep_layers: int | None = None,
        distill_hidden: float | None = None,
    ):
        if distill_on not in DISTILL_ON:
            raise TunelabError(f"model.distill_on={distill_on!r}; choose outside or all")
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
        self.set_decode(decode)
        self.model = self.pretrained(AutoModelForTokenClassification)
        self._allowed = allowed_transitions(self.labels)
        self._starts = allowed_starts(self.labels)
        self.crf = CRF(self._allowed) if crf else None
        if teacher and crf:
            raise TunelabError("model.teacher (distillation) works without a CRF: set crf=false")
        # In a list: never trained, saved nor counted as this module's parameters. A teacher
        # with a CRF comes with it (second), whose marginals teach the student.
        self.teacher = []
        if teacher:
            classes = AutoModelForTokenClassification
            hidden = bool(distill_hidden)
            self.teacher = [load_teacher(teacher, model_name_or_path, self.labels, classes, hidden)]
            self.teacher += self.teacher_crf(teacher)
        self._outputs: dict[tuple[int, int], tuple] = {}
        self._position_offset: int | None | object = UNCHECKED
        # Exact (float64) scores of the last epoch per prefix; the logged copies are float32.

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        crf_path = Path(model_dir) / cls.CRF_FILE
        decode = (settings or {}).get("decode", "viterbi")
        module = super().from_exported(
            model_dir, settings, crf=crf_path.is_file(), decode=decode, **kwargs
        )
        if module.crf is not None:
            module.crf.load_state_dict(load_file(str(crf_path)))
        return module

    def exported_settings(self) -> dict:
        return {**super().exported_settings(), "decode": self.decode}

    def export(self, directory: str, tokenizer) -> None:
        super().export(directory, tokenizer)
        if self.crf is not None:
            tensors = {k: v.detach().contiguous() for k, v in self.crf.state_dict().items()}
            save_file(tensors, str(Path(directory) / self.CRF_FILE))

    def extra_parameter_groups(self, lr: float) -> list[dict]:
        if self.crf is None:
            return []
        scaled = lr * self.hparams.crf_lr_scale
        return [{"params": list(self.crf.parameters()), "weight_decay": 0.0, "lr": scaled}]

    def training_step(self, batch, batch_idx):
        labels = batch["labels"]
        check_taught(labels, self.teacher)
        logits, states = self.training_outputs(batch, self.distills_hidden)
        if self.teacher:
            inputs = self.model_inputs(batch)
            taught, taught_states = teacher_outputs(self.teacher[0], inputs, self.distills_hidden)
            temperature = self.hparams.distill_temperature
            if len(self.teacher) > 1:
                loss = self.crf_teacher_loss(logits, taught, batch["word_index"], labels)
            elif self.hparams.distill_on == "all":
                scored = labels != IGNORE
                loss = gold_and_teacher_loss(
                    logits[scored],
                    taught[scored],
                    labels[scored],
                    temperature,
                    teacher_weight=self.hparams.distill_weight,
                )
            else:
                outside = self.labels.index("O")
                loss = distill_loss(logits, taught, labels, outside, temperature)
            if states is not None:
                mask = batch["attention_mask"]
                taught_hidden = hidden_state_loss(states, taught_states, mask)
                loss = loss + self.hparams.distill_hidden * taught_hidden
        elif self.crf is None:
            # The Hugging Face models' own token loss: mean over labelled sub-tokens, in fp32.
            scores = logits.flatten(0, 1).float()
            loss = F.cross_entropy(scores, labels.flatten(), ignore_index=IGNORE)
        else:
            loss = self.crf.nll(*word_rows(logits, batch["word_index"], labels))
        self.log("train/loss", loss, prog_bar=True, batch_size=labels.shape[0])
        return loss

    def teacher_crf(self, teacher: str) -> list[CRF]:
        """The teacher's CRF, frozen, if it has one ([] if not)."""
        path = Path(teacher) / self.CRF_FILE
        if not path.is_file():
            return []
        if self.hparams.distill_on != "all":
            raise TunelabError(
                f"teacher {teacher} has a CRF: its marginals teach a student with "
                "model.distill_on=all (tunelab distill), not continual learning's outside"
            )
        old = self.teacher[0].config.num_labels
        crf = CRF(self._allowed[:old, :old])
        crf.load_state_dict(load_file(str(path)))
        log.info("the teacher's CRF teaches through its marginals over each word")
        return [crf.requires_grad_(False)]

    def crf_teacher_loss(self, logits, taught, word_index, labels) -> torch.Tensor:
        """Gold and teacher loss over words (first sub-tokens): the teacher's probabilities are
        its CRF's marginals, at the distillation temperature."""
        emissions, tags, mask = word_rows(logits, word_index, labels)
        teacher_emissions = word_rows(taught, word_index, labels)[0]
        crf = self.teacher[1].to(logits.device)
        temperature = self.hparams.distill_temperature
        soft = crf.marginals(teacher_emissions, mask, temperature)
        scored = mask & (tags != IGNORE)
        return gold_and_soft_loss(
            emissions[scored],
            soft[scored],
            tags[scored],
            temperature,
            teacher_weight=self.hparams.distill_weight,
        )

    # -- packed training batches (data.pack) ---------------------------------------------------
    def training_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """[items, length, labels] scores of a training (or packed prediction) batch: from its
        packed form (`tunelab.data.batching.pack_batch`) when this model gives the same scores
        that way."""
        return self.training_outputs(batch)[0]

    def training_outputs(
        self, batch: dict[str, torch.Tensor], hidden: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """`training_logits` and, with `hidden`, the hidden states of the same pass, each
        [items, length, width] (the embeddings', then each layer's)."""
        if "unpack" in batch and not self.prompt_length:  # a soft prompt leads each row
            if self._position_offset is UNCHECKED:
                self._position_offset = self._packing_offset(batch)
            if self._position_offset is not None:
                return self._packed_outputs(batch, self._position_offset, hidden)
        return self.padded_outputs(batch, hidden)

    def _packed_logits(self, batch: dict[str, torch.Tensor], position_offset: int) -> torch.Tensor:
        return self._packed_outputs(batch, position_offset)[0]

    def _packed_outputs(
        self, batch: dict[str, torch.Tensor], position_offset: int, hidden: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        segments = batch["packed_segments"]
        implementation = self.model.config._attn_implementation
        # On CPU, eager attention with tunelab's dropout: with dropout and a mask SDPA takes its
        # slower unfused path there (docs/benchmarks.md). Elsewhere the model's own attention,
        # whose GPU kernels take a boolean mask.
        cpu = segments.device.type == "cpu"
        eager = cpu or implementation == "eager"
        mask = block_diagonal_mask(segments, self.model.dtype if eager else None)
        with attention_implementation(self.model, ATTENTION if cpu else implementation):
            outputs = self.model(
                input_ids=batch["packed_input_ids"],
                attention_mask=mask,
                position_ids=batch["packed_position_ids"] + position_offset,
                output_hidden_states=hidden,
            )

        def unpacked(packed: torch.Tensor) -> torch.Tensor:
            return packed.flatten(0, 1)[batch["unpack"]]

        states = tuple(map(unpacked, outputs.hidden_states)) if hidden else None
        return unpacked(outputs.logits), states

    def _packing_offset(self, batch: dict[str, torch.Tensor]) -> int | None:
        """The position-id offset at which packed rows give the scores of one row per sentence
        (0 for BERT, padding id + 1 for RoBERTa-style models), or None when none does (e.g. a
        model or adapter that takes no 4-D attention mask); checked once, in fp32, no dropout."""
        pad = self.model.config.pad_token_id
        offsets = [0] if pad is None else [0, pad + 1]
        with self.reference_mode():
            real = batch["attention_mask"].bool()
            expected = self.model(**self.model_inputs(batch)).logits[real]
            for offset in offsets:
                try:
                    packed = self._packed_logits(batch, offset)[real]
                except Exception:  # noqa: BLE001 - any failure means: cannot pack
                    continue
                if torch.allclose(packed, expected, rtol=1e-3, atol=1e-4):
                    return offset
        log.warning(
            "data.pack: %s does not give the same scores for packed sentences; training on "
            "padded batches instead (set data.pack=false to skip this check)",
            type(self.model).__name__,
        )
        return None

    def set_decode(self, decode: str) -> None:
        if decode not in DECODERS:
            raise TunelabError(f"decode={decode!r}; choose one of {', '.join(DECODERS)}")
        self.decode = decode

    # -- prediction ----------------------------------------------------------------------------
    def window_scores(self, batch: dict[str, torch.Tensor]) -> dict[tuple[int, int], tuple]:
        """(sentence, window) -> (word indices, distance of each to the window edge,
        [words, labels] log-probabilities), read at each word's first sub-token."""
        if "unpack" in batch:  # packed rows (`packed_batches`), where the model packs the same
            logits = self.training_logits(batch)
        else:
            logits = self.model(**self.model_inputs(batch)).logits
        word_index = batch["word_index"]
        # One gather for the whole batch, then a split per row: no per-row tensor work.
        rows, positions = (word_index >= 0).nonzero(as_tuple=True)
        last = batch["attention_mask"].sum(-1)[rows] - 1
        distances = torch.minimum(positions, last - positions).cpu()
        log_probs = logits[rows, positions].float().log_softmax(-1).cpu()
        words = word_index[rows, positions].cpu()
        counts = torch.bincount(rows, minlength=word_index.shape[0]).tolist()
        keys = zip(batch["sentence"].tolist(), batch["window"].tolist(), strict=True)
        pieces = zip(
            keys,
            words.split(counts),
            distances.split(counts),
            log_probs.split(counts),
            strict=True,
        )
        # clone: a view would carry the whole batch along when gathered under DDP
        return {key: (w.tolist(), d.tolist(), lp.clone()) for key, w, d, lp in pieces}

    @staticmethod
    def sentence_scores(outputs: dict[tuple[int, int], tuple]) -> dict[int, tuple]:
        """Sentence -> (words covered, their log-probabilities), windows merged by the rule in
        `tunelab.data.windows`."""
        grouped: dict[int, list] = {}
        for (sentence, _window), piece in sorted(outputs.items()):
            grouped.setdefault(sentence, []).append(piece)
        return {sentence: merge_windows(pieces) for sentence, pieces in grouped.items()}

    def decode_many(self, sentences: list[tuple[list[int], torch.Tensor, int]]) -> list[list[str]]:
        """Tags for each (words covered, their log-probabilities, sentence length in words);
        words without scores (truncated) get O."""
        scores = [log_probs for _, log_probs, _ in sentences]
        if self.decode == "viterbi":
            learned = self.crf.learned() if self.crf is not None else None
            paths = viterbi_many(scores, self._allowed, self._starts, learned)
        else:
            paths = [log_probs.argmax(-1).tolist() for log_probs in scores]
        tagged = []
        for (words, _, n_words), ids in zip(sentences, paths, strict=True):
            tags = ["O"] * n_words
            for word, label in zip(words, ids, strict=True):
                tags[word] = self.labels[label]
            tagged.append(tags)
        return tagged

    # -- evaluation ----------------------------------------------------------------------------
    def _eval_step(self, batch: dict[str, torch.Tensor]) -> None:
        self._outputs.update(self.window_scores(batch))

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch)

    def test_step(self, batch, batch_idx):
        self._eval_step(batch)

    def on_validation_epoch_start(self):
        self._outputs = {}

    on_test_epoch_start = on_validation_epoch_start

    def _score(self, prefix: str) -> None:
        """Decode and score the epoch's sentences against `self.references[prefix]`, the gold
        IOB2 tags of each sentence of the split."""
        references = self.references[prefix]
        merged = self.sentence_scores(self._gathered())
        # Under fast_dev_run / limit_*_batches only some sentences were predicted: score those.
        done = sorted(merged)
        gold = [references[i] for i in done]
        pred = self.decode_many([(*merged[i], len(references[i])) for i in done])
        scores = {f"{prefix}/{k}": v for k, v in ner_scores(gold, pred).items()}
        if prefix == "val":  # for the learning curves; test scores come from the predictions
            scores["val/loss"] = self.word_loss([merged[i] for i in done], gold)
        f1 = f"{prefix}/f1"
        self.log(f1, scores[f1], prog_bar=True)
        self.log_dict({k: v for k, v in scores.items() if k != f1})
        self._outputs = {}
        predictions = dict(zip(done, pred, strict=True))
        outputs = {i: merged[i] for i in done}
        self.evaluations[prefix] = Evaluation(scores, predictions, outputs=outputs)

    def word_probabilities(
        self, scored: list[tuple[list[int], torch.Tensor, list[str]]], temperature=None
    ) -> list[dict[int, float]]:
        """For each sentence (its scored words, their log-probabilities, its tags): each scored
        word's probability of the tag it was given, at the model's temperature (or the one
        given). All sentences in one pass: a few tensor calls a sentence cost more than their
        arithmetic."""
        if not scored:
            return []
        label2id = self.label2id  # a property that builds the dict: once, not once a word
        chosen = [label2id[tags[w]] for words, _, tags in scored for w in words]
        log_probs = torch.cat([log_probs for _, log_probs, _ in scored]).float()
        scaled = (log_probs / (temperature or self.temperature)).log_softmax(-1)
        index = torch.tensor(chosen, dtype=torch.long)[:, None]
        flat = scaled.gather(1, index).exp().flatten().tolist()
        found, start = [], 0
        for words, _, _ in scored:
            found.append(dict(zip(words, flat[start : start + len(words)], strict=True)))
            start += len(words)
        return found

    @staticmethod
    def entity_confidence(span, probabilities: dict[int, float]) -> float:
        """An entity's confidence: the product of its words' tag probabilities."""
        return math.prod(probabilities.get(w, 1.0) for w in range(span.start, span.end))

    def uncalibrated_reason(self) -> str | None:
        return None

    def decision_events(self, prefix: str, temperature: float) -> tuple:
        """(confidence, whether it is a gold entity) of each predicted entity."""
        evaluation = self.evaluation(prefix)
        confidence, right = [], []
        sentences = list(evaluation.predictions.items())
        scored = [(*evaluation.outputs[sentence], tags) for sentence, tags in sentences]
        every = self.word_probabilities(scored, temperature)
        for (sentence, tags), probabilities in zip(sentences, every, strict=True):
            gold = entities(self.references[prefix][sentence])
            for span in tags_to_spans(tags):
                confidence.append(self.entity_confidence(span, probabilities))
                right.append((span.type, span.start, span.end) in gold)
        return np.array(confidence, dtype=float), np.array(right, dtype=bool)

    def word_loss(self, scored: list[tuple], gold: list[list[str]]) -> float:
        """Mean negative log-probability of each scored word's gold tag (the tag scores'
        softmax, before any CRF): the validation loss, from the same outputs as the F1."""
        ids = {label: i for i, label in enumerate(self.labels)}
        total, count = 0.0, 0
        for (words, log_probs), tags in zip(scored, gold, strict=True):
            known = [(row, ids[tags[w]]) for row, w in enumerate(words) if tags[w] in ids]
            if known:
                rows, labels = zip(*known, strict=True)
                total -= log_probs[list(rows), list(labels)].sum().item()
                count += len(known)
        return total / max(count, 1)

    def on_validation_epoch_end(self):
        self._score("val")

    def on_test_epoch_end(self):
        self._score("test")
