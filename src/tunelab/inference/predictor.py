"""A loaded model that labels texts in memory: what `tunelab-predict` and `tunelab-serve` share.

from tunelab.inference.predictor import Predictor
Predictor("outputs/run/model").predict(["Anna lives in Berlin."])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

import torch
from transformers import AutoTokenizer

from tunelab.apps.assistant.answers import Assistant
from tunelab.data.reading import OVERRIDABLE, override, with_defaults
from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.inference.loading import load_module
from tunelab.models.export.onnx import run_on_onnx
from tunelab.models.export.torch_int8 import BACKENDS, check_accepted, quantize_linear_int8
from tunelab.speed.inference import cast_linear_weights
from tunelab.speed.precision import default_precision
from tunelab.trust import abstain
from tunelab.trust.explain import STEPS

log = logging.getLogger("tunelab")
PRECISIONS = ("bf16-mixed", "32-true")


def check_settings(precision, batch_size, max_tokens, max_chars) -> None:
    """The Predictor's own settings, one line for a wrong one."""
    if precision is not None and precision not in PRECISIONS:
        raise TunelabError(f"precision={precision!r}; choose one of {', '.join(PRECISIONS)}")
    for name, value, nullable in (
        ("batch_size", batch_size, False),
        ("max_tokens", max_tokens, True),
        ("max_chars", max_chars, True),
    ):
        if value is None and nullable:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TunelabError(f"{name}={value!r}; use a whole number >= 1")


def checked_texts(texts, name: str, max_chars: int | None) -> list[str]:
    """`texts` as a list of strings, or one line naming the first that is not a text."""
    if isinstance(texts, str):
        raise TunelabError(f"{name} is one string: give a list of texts, e.g. predict([text])")
    if texts is None or not isinstance(texts, Sequence):
        kind = type(texts).__name__
        raise TunelabError(f"{name} is {kind}: give a list of texts")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TunelabError(f"{name}[{index}] is {type(text).__name__}, not a text")
        if max_chars is not None and len(text) > max_chars:
            raise TunelabError(
                f"{name}[{index}] has {len(text):,} characters; at most {max_chars:,} "
                "(max_chars=None lifts the limit)"
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise TunelabError(
                f"{name}[{index}] holds a lone surrogate at character {err.start}: not a text"
            ) from None
    return list(texts)


class Predictor:
    """An exported model (`RUN/model`), its tokenizer and how it reads input.

    Args:
        model_dir: a folder exported by tunelab-train.
        precision: `bf16-mixed` or `32-true`; None: as training and evaluation run on this CPU.
        batch_size: texts per forward pass at most; batches are sorted by length and also stop
            at `max_tokens` sub-tokens (padded ones, as in evaluation; real ones when packed).
        reading: overrides of how text is read (`max_length`, `stride`, `context`, `long_text`,
            `pack`).
        pack: NER: several texts to a row of a batch (block-diagonal attention), where the
            model gives the same scores so: about twice as fast on short texts; under bf16,
            scores may differ from evaluation's in the last digits.
        task: a task outside tunelab that the model names, trusted because named here.
        trust_remote_code: run code shipped with the model (its config's auto_map).
        backend: `torch`; `torch_int8`: its Linear layers in int8, packed rows kept, once
            `tunelab-export quantize=int8` has let it through the quality gate; or `onnx`:
            the graph `RUN/model/onnx/<onnx_model>` (written by tunelab-export) on ONNX
            Runtime, in fp32 arithmetic outside it, on padded batches.
        onnx_model: `model.onnx` (default) or `model.int8.onnx`.
        max_chars: a longer text is refused with one line naming it (None: no limit); a long
            text costs time and memory in proportion, and a caller's stray document can stall
            a notebook or a service for minutes.
    """

    @classmethod
    def from_config(cls, cfg, max_chars: int | None) -> Predictor:
        """The Predictor a command's config asks for (`predict.yaml`, `serve.yaml`): its model,
        precision, batches, backend, and the reading keys it sets over the model's."""
        return cls(
            cfg.model_dir,
            precision=cfg.precision,
            batch_size=cfg.batch_size,
            max_tokens=cfg.max_tokens,
            reading=cfg,
            task=cfg.get("task"),
            trust_remote_code=cfg.get("trust_remote_code", False),
            backend=cfg.get("backend", "torch"),
            onnx_model=cfg.get("onnx_model"),
            max_chars=max_chars,
        )

    def __init__(
        self,
        model_dir: str,
        precision: str | None = None,
        batch_size: int = 64,
        max_tokens: int | None = 2048,
        reading: Mapping | None = None,
        pack: bool = True,
        task: str | None = None,
        trust_remote_code: bool = False,
        backend: str = "torch",
        onnx_model: str | None = None,
        max_chars: int | None = 100_000,
    ) -> None:
        check_settings(precision, batch_size, max_tokens, max_chars)
        self.max_chars = max_chars
        # One forward pass at a time through the model: an explanation hooks its embedding
        # layer (captum), which would change what a prediction running beside it computes.
        self.running = threading.RLock()
        self.module, tokenizer_name, self.task = load_module(
            model_dir=model_dir, task=task, trust_remote_code=trust_remote_code
        )
        self.module.eval()
        self.tokenizer = from_pretrained(AutoTokenizer, tokenizer_name)
        recorded = {**self.module.input_settings, "pack": pack}
        self.settings = override(with_defaults(recorded), reading or {}, OVERRIDABLE)
        self.precision = precision or default_precision()
        self.batch_size, self.max_tokens = batch_size, max_tokens
        if backend not in BACKENDS:
            raise TunelabError(f"backend={backend!r}; choose one of {', '.join(BACKENDS)}")
        self.backend = backend
        # loaded after the one-time checks below, which need no answers and no threshold
        self.assistant, self.abstain_below = None, None
        if backend == "onnx":
            # the graph takes 2-D masks and computes in fp32: no packed rows, no autocast
            run_on_onnx(self.module, model_dir, onnx_model)
            self.settings["pack"], self.precision = False, "32-true"
        elif backend == "torch_int8":
            check_accepted(model_dir)
            self.precision = "32-true"  # the int8 layers take fp32 inputs
            self.settle_checks()  # int8's activation scales depend on the batch
            quantize_linear_int8(self.module.model)
        elif self.precision == "bf16-mixed" and self.task.label_texts is not None:
            self.settle_checks()
            cast_linear_weights(self.module)
        if self.task.embed_texts is not None:
            self.assistant = Assistant.load(model_dir)
        self.abstain_below = abstain.load(model_dir)  # None: it answers everything

    def settle_checks(self) -> None:
        """A first prediction in fp32's reach: the module's one-time checks (e.g. that packed
        rows give one row's scores) compare with the model run in fp32, before it is cast to
        bf16 or quantized."""
        if self.task.label_texts is None:
            return
        texts = ["Check that packed rows score as single rows .", "A second text"]
        self.predict(texts, texts if self.settings.get("text_pair_column") else None)

    def embed(self, texts: list[str]) -> torch.Tensor:
        """[texts, dim] the model's embedding of each text (classification models: a sentence
        encoder's own, else the encoder's mean-pooled last layer), as the assistant's index
        holds them."""
        if self.task.embed_texts is None:
            raise TunelabError(f"a {self.task.name} model embeds no texts")
        if self.backend == "onnx":  # the graph gives the classifier's scores, not embeddings
            raise TunelabError(
                "embeddings (search, an assistant's similar questions) need backend=torch"
            )
        texts = checked_texts(texts, "texts", self.max_chars)
        bf16 = self.precision == "bf16-mixed"
        with (
            self.running,
            torch.inference_mode(),
            torch.autocast("cpu", torch.bfloat16, enabled=bf16),
        ):
            return self.task.embed_texts(
                self.module, self.tokenizer, self.settings, texts, self.batch_size, self.max_tokens
            )

    def search(self, texts: list[str], k: int = 5) -> list[list[dict]]:
        """The `k` past questions nearest each text (text, intent, cosine score), from the index
        `tunelab assistant` saved beside the model."""
        if self.assistant is None or self.assistant.index is None:
            raise TunelabError(
                "this model has no question index: build one with "
                "tunelab assistant model_dir=MODEL (README: Customer-service assistant)"
            )
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise TunelabError(f"k={k!r}; use a whole number >= 1")
        return self.assistant.index.search(self.embed(texts), k) if texts else []

    def rank(self, text: str, candidates: list[str], label: str) -> list[dict]:
        """The candidates (second texts) ordered by the probability of `label` for the pair
        (text, candidate), highest first: `{"candidate", "score"}` each. A pair model ranks,
        e.g. one trained on data=movielens: a user's liked movies, a movie, label `liked`."""
        if not self.settings.get("text_pair_column"):
            raise TunelabError("rank needs a model trained on text pairs (e.g. data=movielens)")
        if label not in self.labels:
            raise TunelabError(f"label={label!r}; the model's labels are {', '.join(self.labels)}")
        if not isinstance(text, str):
            raise TunelabError(f"text is {type(text).__name__}: give one text")
        candidates = checked_texts(candidates, "candidates", self.max_chars)
        records = self.predict([text] * len(candidates), candidates)
        scored = [
            {"candidate": c, "score": r["probabilities"][label]}
            for c, r in zip(candidates, records, strict=True)
        ]
        return sorted(scored, key=lambda item: -item["score"])

    def explain(self, texts: list[str], steps: int = STEPS) -> list[dict]:
        """Each text's decisions (classification: its label; NER: each entity) with each word's
        attribution to it (Integrated Gradients, `tunelab.trust.explain`), the path's
        `difference` and the `completeness_gap`; `tunelab-explain` writes these records."""
        if self.task.explain_texts is None:
            raise TunelabError(f"a {self.task.name} model has no explanations")
        if self.backend != "torch":
            raise TunelabError("explanations need gradients: backend=torch")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise TunelabError(f"steps={steps!r}; use a whole number >= 2")
        texts = checked_texts(texts, "texts", self.max_chars)
        bf16 = self.precision == "bf16-mixed"
        with self.running, torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            return self.task.explain_texts(self.module, self.tokenizer, self.settings, texts, steps)

    @property
    def labels(self) -> list[str]:
        return list(getattr(self.module, "labels", None) or [])

    def predict(self, texts: list[str], pairs: list[str] | None = None) -> list[dict]:
        """One record per text: NER `{"text", "entities"}`; classification `{"text", "label"
        (or "labels"), "probabilities"}`, and for an assistant `probability`, `answer` and
        `unsure` (with `similar` past questions); as `tunelab-predict` writes them. A model
        with an abstain threshold (`tunelab-eval ... abstain.precision=P`) marks each text
        (NER: each entity) `unsure` or not. Probabilities are the calibrated ones."""
        if self.task.label_texts is None:
            raise TunelabError(f"task {self.task.name} has no in-memory prediction (label_texts)")
        texts = checked_texts(texts, "texts", self.max_chars)
        if pairs is not None:
            pairs = checked_texts(pairs, "pairs", self.max_chars)
            if len(pairs) != len(texts):
                raise TunelabError(f"{len(texts)} texts but {len(pairs)} pairs: one pair a text")
        if not texts:
            return []
        # The precision evaluation runs in (Lightning's `bf16-mixed` is this autocast), so that
        # the same text gets the same scores from every command.
        bf16 = self.precision == "bf16-mixed"
        with (
            self.running,
            torch.inference_mode(),
            torch.autocast("cpu", torch.bfloat16, enabled=bf16),
        ):
            records = self.task.label_texts(
                self.module,
                self.tokenizer,
                self.settings,
                texts,
                pairs,
                self.batch_size,
                self.max_tokens,
            )
        if self.assistant is not None and not self.module.multi_label:
            return self.assistant.respond(records, self.search)
        if self.abstain_below is not None:
            return abstain.mark_unsure(records, self.abstain_below)
        return records
