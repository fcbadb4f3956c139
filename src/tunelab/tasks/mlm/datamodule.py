"""DataModule for masked-LM training: raw text cut into blocks, masked anew each epoch."""

from __future__ import annotations

import hashlib
import inspect
import logging
import tempfile
from pathlib import Path

import torch
from transformers import BertTokenizerFast, DataCollatorForLanguageModeling

from tunelab.config import preset_datamodule
from tunelab.data.base import TaskDataModule
from tunelab.data.batching import pad_batch
from tunelab.data.raw_text import folder_texts
from tunelab.data.reading import MAX_LENGTH
from tunelab.data.settings import Loader
from tunelab.errors import TunelabError
from tunelab.tasks.mlm.reading import Pretraining, TextBlocks

log = logging.getLogger(__name__)
TRAIN_TOKENIZER = "train"  # data.tokenizer=train: a WordPiece vocabulary learnt on the corpus
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
EVAL_MASK_SEED = 0  # dev and test are masked once, the same way in every run: comparable losses


def cut_blocks(
    token_lists: list[list[int]], length: int, keep_remainder: bool
) -> tuple[list[list[int]], int]:
    """The token lists concatenated and cut into blocks of `length`; and how many tokens are left
    over at the end (dropped unless `keep_remainder`, which makes them a last, shorter block)."""
    stream = [token for tokens in token_lists for token in tokens]
    full = len(stream) // length * length
    blocks = [stream[start : start + length] for start in range(0, full, length)]
    left = len(stream) - full
    if keep_remainder and left:
        blocks.append(stream[full:])
        left = 0
    return blocks, left


def train_wordpiece(texts: list[str], vocab_size: int, lowercase: bool, folder: Path):
    """A BERT WordPiece tokenizer learnt on `texts` with the `tokenizers` library, saved in
    `folder`. Chinese characters are split one by one before WordPiece (BERT's normaliser), so a
    Chinese corpus gets a character vocabulary."""
    from tokenizers import BertWordPieceTokenizer

    if not (folder / "tokenizer.json").is_file():
        learner = BertWordPieceTokenizer(lowercase=lowercase, handle_chinese_chars=True)
        learner.train_from_iterator(
            texts,
            vocab_size=vocab_size,
            special_tokens=SPECIAL_TOKENS,
            # the library keeps only 1,000 distinct characters by default: too few for Chinese
            limit_alphabet=vocab_size - len(SPECIAL_TOKENS),
            show_progress=False,
        )
        tokenizer = BertTokenizerFast(
            vocab=learner.get_vocab(), do_lower_case=lowercase, model_max_length=MAX_LENGTH
        )
        tokenizer.save_pretrained(folder)
        log.info("trained a WordPiece vocabulary of %d tokens: %s", len(tokenizer), folder)
    return BertTokenizerFast.from_pretrained(folder)


class TextDataModule(TaskDataModule):
    """Reads raw text, tokenizes it once and cuts it into blocks of `max_length` sub-tokens.

    Args:
        tokenizer: the model's tokenizer (id or folder), or `train` to learn a WordPiece
            vocabulary of `vocab_size` on the training text (pre-training from scratch).
        dir: a folder of train*, dev*/valid*, test* files (.txt: one document or paragraph a
            line; .jsonl/.csv/.tsv: `text_column`; optionally .gz/.bz2). Without dev*, a seeded
            `dev_fraction` of the training texts; without test*, test is dev.
        from_presets (`data.from`): instead of `dir`, a data preset (or a list of them) whose
            splits' texts, without labels, are the corpus (`data.from=wnut17`: task-adaptive
            pre-training); the training texts of every preset listed, the dev and test texts
            of the first.
        reading: how the text is read and cut (`TextBlocks`).
        pretraining: the masked-LM objective and a learnt vocabulary (`Pretraining`).
        loader: how blocks are batched and loaded (`tunelab.data.settings.Loader`).
        labels: unused by masked-LM training; taken because every DataModule is built alike.
    """

    keep = ("block",)
    SETTINGS = {"reading": TextBlocks, "pretraining": Pretraining, "loader": Loader}
    DEFAULTS = {"eval_max_tokens": None}
    SOURCE = ("dir", "from_presets")

    def __init__(
        self,
        tokenizer: str,
        *,
        dir: str | None = None,
        from_presets: list[str] | None = None,
        reading: TextBlocks,
        pretraining: Pretraining,
        loader: Loader,
        labels: list[str] | None = None,
    ):
        super().__init__()
        if isinstance(from_presets, str):
            from_presets = [from_presets]
        from_presets = list(from_presets) if from_presets else None
        if (dir is None) == (from_presets is None):
            raise TunelabError("set exactly one of data.dir (a folder of text) or data.from=PRESET")
        self.keep_settings(locals())
        self._texts: dict[str, list[str]] = {}
        self._encoded: dict[str, list[dict]] = {}
        self.left_over: dict[str, int] = {}

    @classmethod
    def from_config(cls, tokenizer: str, **keys):
        # `from` is what users write (data.from=wnut17) but not a Python parameter name.
        if "from" in keys:
            chosen = keys.pop("from")
            if chosen is not None:
                keys["from_presets"] = chosen
        return super().from_config(tokenizer, **keys)

    @classmethod
    def setting_names(cls) -> set[str]:
        return super().setting_names() | {"from"}

    @property
    def labels(self) -> list[str]:
        return []

    def raw_texts(self, split: str) -> list[str]:
        if split not in self._texts:
            h, r = self.hparams, self.reading
            if h.dir is not None:
                texts = folder_texts(h.dir, split, r.text_column, r.dev_fraction, r.errors)
            else:
                presets = h.from_presets if split == "train" else h.from_presets[:1]
                texts = [text for name in presets for text in preset_texts(name, split)]
            self._texts[split] = texts
        return self._texts[split]

    @property
    def tokenizer(self):
        if self._tokenizer is None and self.hparams.tokenizer == TRAIN_TOKENIZER:
            texts = self.raw_texts("train")
            # the folder's name: the settings, the texts and how the vocabulary is learnt
            settings = f"{self.pretraining.vocab_size} {self.pretraining.lowercase}\n"
            digest = hashlib.sha256((settings + inspect.getsource(train_wordpiece)).encode())
            for text in texts:
                digest.update(text.encode() + b"\n")
            root = self.loader.cache_dir or tempfile.mkdtemp(prefix="tunelab-")
            folder = Path(root) / "tokenizers" / digest.hexdigest()[:32]
            self._tokenizer = train_wordpiece(
                texts, self.pretraining.vocab_size, self.pretraining.lowercase, folder
            )
        return super().tokenizer

    @property
    def pad_values(self) -> dict[str, int]:
        return {"input_ids": self.tokenizer.pad_token_id, "labels": -100}

    @property
    def collator(self) -> DataCollatorForLanguageModeling:
        if getattr(self, "_collator", None) is None:
            if self.tokenizer.mask_token is None:
                raise TunelabError(
                    f"tokenizer {self.hparams.tokenizer} has no mask token: it cannot train a "
                    "masked language model"
                )
            self._collator = DataCollatorForLanguageModeling(
                self.tokenizer,
                mlm_probability=self.pretraining.mlm_probability,
                whole_word_mask=self.pretraining.whole_word_mask,
            )
        return self._collator

    def encoded(self, split: str) -> list[dict]:
        if split not in self._encoded:
            texts = self.raw_texts(split)
            blocks = self.cached_encoding(split, texts, lambda: self._blocks(texts, split))
            if not blocks:
                raise TunelabError(
                    f"the {split} text holds {self.left_over[split]} sub-tokens, fewer than one "
                    f"block of data.max_length={self.reading.max_length}: give more text or a "
                    "smaller data.max_length"
                )
            items = [{**block, "block": i} for i, block in enumerate(blocks)]
            if split != "train":  # masked once, the same in every epoch and run
                items = self._masked(items, torch.Generator().manual_seed(EVAL_MASK_SEED))
            self._encoded[split] = items
        return self._encoded[split]

    def _blocks(self, texts: list[str], split: str) -> list[dict]:
        """Blocks of sub-token ids (with word offsets for whole-word masking); each text keeps its
        [CLS] ... [SEP], as in the standard recipe (`group_texts`)."""
        wwm = self.pretraining.whole_word_mask
        encoding = self.tokenizer(texts, return_offsets_mapping=wwm, verbose=False)
        ids, self.left_over[split] = cut_blocks(
            encoding["input_ids"], self.reading.max_length, split != "train"
        )
        if self.left_over[split] and split == "train":
            log.info("train split: the last %d sub-tokens fill no block", self.left_over[split])
        if not wwm:
            return [{"input_ids": block} for block in ids]
        offsets, _ = cut_blocks(
            [[list(pair) for pair in row] for row in encoding["offset_mapping"]],
            self.reading.max_length,
            split != "train",
        )
        return [{"input_ids": i, "offsets": o} for i, o in zip(ids, offsets, strict=True)]

    def _masked_batch(self, items: list[dict], generator: torch.Generator) -> dict:
        """A padded batch of `items` with the tokens chosen for prediction masked (`labels`: the
        original id there, -100 elsewhere, padding included)."""
        pad = {"input_ids": self.tokenizer.pad_token_id}
        batch = pad_batch(items, pad, self.keep, self.loader.pad_to_multiple_of)
        collator = self.collator
        collator.generator = generator
        special = torch.isin(batch["input_ids"], torch.tensor(self.tokenizer.all_special_ids))
        offsets = None
        if self.pretraining.whole_word_mask:
            length = batch["input_ids"].shape[1]
            offsets = torch.tensor([o + [[0, 0]] * (length - len(o)) for o in _offsets(items)])
        batch["input_ids"], batch["labels"] = collator.torch_mask_tokens(
            batch["input_ids"], special_tokens_mask=special, offset_mapping=offsets
        )
        return batch

    def _masked(self, items: list[dict], generator: torch.Generator) -> list[dict]:
        """Items masked once (dev and test), kept as lists like the other splits' items."""
        batch = self._masked_batch(items, generator)
        return [
            {
                "input_ids": batch["input_ids"][row, : len(item["input_ids"])].tolist(),
                "labels": batch["labels"][row, : len(item["input_ids"])].tolist(),
                "block": item["block"],
            }
            for row, item in enumerate(items)
        ]

    def train_collate(self, items: list[dict]):
        """A training batch masked anew: the mask depends on the seed, the epoch and the block,
        never on the global random state, so a resumed run masks as the uninterrupted run did."""
        epoch = self.trainer.current_epoch if self.trainer is not None else 0
        seed = (self.shuffle_seed * 1_000_003 + epoch * 10_007 + items[0]["block"]) % 2**63
        return self._masked_batch(items, torch.Generator().manual_seed(seed))

    def references(self, split: str) -> list:
        return []

    def split_stats(self, split: str) -> dict[str, int]:
        return {"blocks": len(self.encoded(split))}

    def fit_arguments(self) -> dict:
        """The vocabulary a model built from scratch needs."""
        tokenizer = self.tokenizer
        trained = self.hparams.tokenizer == TRAIN_TOKENIZER
        return {
            "tokenizer_size": len(tokenizer),
            "pad_token_id": tokenizer.pad_token_id,
            "tokenizer_dir": tokenizer.name_or_path if trained else None,
        }


def _offsets(items: list[dict]) -> list[list[list[int]]]:
    return [item["offsets"] for item in items]


def preset_texts(name: str, split: str) -> list[str]:
    """The texts, without labels, of a labelled data preset's split."""
    why = "is a raw-text preset; name a labelled one"
    return preset_datamodule(name, TextDataModule, why).raw_texts(split)
