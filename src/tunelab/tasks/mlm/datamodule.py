"""DataModule for masked-LM training: raw text cut into blocks, masked anew each epoch."""

from __future__ import annotations

import hashlib
import inspect
import itertools
import logging
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import BertTokenizerFast, DataCollatorForLanguageModeling

from tunelab.config import preset_datamodule
from tunelab.data.base import TaskDataModule
from tunelab.data.batching import pad_batch
from tunelab.data.cache import content_digest
from tunelab.data.raw_text import folder_split
from tunelab.data.reading import MAX_LENGTH
from tunelab.data.settings import Loader
from tunelab.data.store import TEXTS_PER_CHUNK, ItemStore, batched
from tunelab.data.stream import Streaming
from tunelab.errors import TunelabError
from tunelab.tasks.mlm.reading import Pretraining, TextBlocks

log = logging.getLogger(__name__)
TRAIN_TOKENIZER = "train"  # data.tokenizer=train: a WordPiece vocabulary learnt on the corpus
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
EVAL_MASK_SEED = 0  # dev and test are masked once, the same way in every run: comparable losses


def plain_encoder(tokenizer):
    """`texts -> encodings` (each with `.ids` and `.offsets`) of a fast tokenizer's own Rust
    tokenizer, with special tokens, never truncated or padded: the ids `tokenizer(texts)` gives,
    without transformers' conversion of every encoding to Python lists (a third of the time). A
    copy, since a tokenizer.json may carry truncation and padding (MiniLM's does)."""
    from tokenizers import Tokenizer

    backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    backend.no_truncation()
    backend.no_padding()
    return backend.encode_batch


def train_wordpiece(texts: Iterable[str], vocab_size: int, lowercase: bool, folder: Path):
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


class TextDataModule(Streaming, TaskDataModule):
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

    def split_texts(self, split: str) -> Iterable[str]:
        """The split's texts: read from the files each time they are iterated (`data.dir`), or a
        preset's, in a list."""
        if split not in self._texts:
            h, r = self.hparams, self.reading
            if h.dir is not None:
                texts = folder_split(h.dir, split, r.text_column, r.dev_fraction, r.errors)
            else:
                presets = h.from_presets if split == "train" else h.from_presets[:1]
                texts = [text for name in presets for text in preset_texts(name, split)]
            self._texts[split] = texts
        return self._texts[split]

    def raw_texts(self, split: str) -> list[str]:
        return list(self.split_texts(split))

    @property
    def tokenizer(self):
        if self._tokenizer is None and self.hparams.tokenizer == TRAIN_TOKENIZER:
            texts = self.split_texts("train")
            # the folder's name: the settings, the texts and how the vocabulary is learnt
            settings = f"{self.pretraining.vocab_size} {self.pretraining.lowercase}\n"
            digest = hashlib.sha256((settings + inspect.getsource(train_wordpiece)).encode())
            digest.update(content_digest(texts).encode())
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

    def encoded(self, split: str) -> ItemStore:
        if split not in self._encoded:
            texts = self.split_texts(split)
            blocks = self.cached_encoding(
                split, content_digest(texts), lambda notes: self._blocks(texts, split, notes)
            )
            if not len(blocks):
                raise TunelabError(
                    f"the {split} text holds {blocks.notes['left_over']} sub-tokens, fewer than "
                    f"one block of data.max_length={self.reading.max_length}: give more text or a "
                    "smaller data.max_length"
                )
            if blocks.notes["left_over"] and split == "train":
                log.info(
                    "train split: the last %d sub-tokens fill no block", blocks.notes["left_over"]
                )
            self._encoded[split] = blocks
        return self._encoded[split]

    def _blocks(self, texts: Iterable[str], split: str, notes: dict) -> Iterator[list[dict]]:
        """Blocks of `max_length` sub-token ids (with word offsets for whole-word masking), a
        chunk of texts at a time: the texts' ids end to end, each text keeping its [CLS] ...
        [SEP], as in the standard recipe (`group_texts`). The sub-tokens left at the end fill
        no block in training (`notes["left_over"]`) and a last, shorter one in dev and test."""
        length, wwm = self.reading.max_length, self.pretraining.whole_word_mask
        encode = plain_encoder(self.tokenizer)
        ids, offsets, count, block = [], [], 0, 0
        chunks = batched(texts, TEXTS_PER_CHUNK)
        for chunk in tqdm(chunks, f"tokenizing {split}", unit=" chunks", disable=None, leave=False):
            encodings = encode(chunk)
            count += len(chunk)
            ids += itertools.chain.from_iterable(e.ids for e in encodings)
            if wwm:
                offsets += ([a, b] for e in encodings for a, b in e.offsets)
            full = len(ids) // length * length
            starts = range(0, full, length)
            yield [
                self._block(ids, offsets, start, start + length, block + n)
                for n, start in enumerate(starts)
            ]
            block += len(starts)
            del ids[:full], offsets[:full]
        if ids and split != "train":
            yield [self._block(ids, offsets, 0, len(ids), block)]
            ids = []
        notes["left_over"], notes["texts"] = len(ids), count

    def _block(self, ids: list, offsets: list, start: int, stop: int, block: int) -> dict:
        item = {"input_ids": ids[start:stop], "block": block}
        if self.pretraining.whole_word_mask:
            item["offsets"] = offsets[start:stop]
        return item

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

    def collate(self, items: list[dict]):
        """An evaluation batch (dev, test): each block masked from a seed of its own, the same
        way in every epoch, run and batch, so that losses compare."""
        masked = []
        for item in items:
            seed = EVAL_MASK_SEED * 1_000_003 + item["block"]
            batch = self._masked_batch([item], torch.Generator().manual_seed(seed))
            size = len(item["input_ids"])
            masked.append(
                {
                    "input_ids": batch["input_ids"][0, :size].tolist(),
                    "labels": batch["labels"][0, :size].tolist(),
                    "block": item["block"],
                }
            )
        return pad_batch(masked, self.pad_values, self.keep, self.loader.pad_to_multiple_of)

    def stream_chunks(self) -> Iterator[list[dict]]:
        return self._blocks(self.split_texts("train"), "train", {})

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
