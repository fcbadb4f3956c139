"""Templates and label words as token ids, and texts spliced into the template."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tunelab.data.windows import special_tokens_around
from tunelab.errors import TunelabError

TEXT, MASK = "{text}", "[MASK]"


@dataclass(frozen=True)
class Template:
    """A template's ids around the text: `before` + prefix + text + suffix + `after`, where
    `before`/`after` are the tokenizer's special tokens and the suffix (or prefix) holds the
    one mask."""

    before: list[int]
    prefix: list[int]
    suffix: list[int]
    after: list[int]
    mask_id: int

    @classmethod
    def parse(cls, template: str, tokenizer) -> Template:
        if template.count(TEXT) != 1 or template.count(MASK) != 1:
            raise TunelabError(
                f"model.template={template!r}: write {TEXT} once and {MASK} once, "
                f"e.g. '{TEXT} It was {MASK}.'"
            )
        if tokenizer.mask_token is None:
            raise TunelabError("method=prompt needs a tokenizer with a mask token")
        head, tail = template.replace(MASK, tokenizer.mask_token).split(TEXT)
        before, after = special_tokens_around(tokenizer)

        def ids(text: str) -> list[int]:
            return tokenizer(text, add_special_tokens=False)["input_ids"] if text.strip() else []

        return cls(before, ids(head), ids(tail), after, tokenizer.mask_token_id)

    def splice(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, limit: int, pad: int):
        """Rows of texts ([CLS] text [SEP], padded) as template rows, padded; the text is cut
        at the end when a row would exceed `limit` ids. Returns (input_ids, attention_mask,
        mask positions)."""
        rows, positions = [], []
        fixed = len(self.before) + len(self.prefix) + len(self.suffix) + len(self.after)
        lengths = attention_mask.sum(-1).tolist()
        for row, length in zip(input_ids.tolist(), lengths, strict=True):
            text = row[len(self.before) : length - len(self.after)][: max(0, limit - fixed)]
            ids = self.before + self.prefix + text + self.suffix + self.after
            rows.append(ids)
            positions.append(ids.index(self.mask_id, len(self.before)))
        width = max(len(ids) for ids in rows)
        padded = torch.tensor([ids + [pad] * (width - len(ids)) for ids in rows])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in rows])
        device = input_ids.device
        return padded.to(device), mask.to(device), torch.tensor(positions, device=device)


def label_word_ids(verbalizer: dict, labels: list[str], tokenizer) -> list[list[int]]:
    """Each label's word ids (one sub-token per word: the mask is one position)."""
    missing = [label for label in labels if label not in verbalizer]
    if missing:
        raise TunelabError(
            f"model.verbalizer has no word for {', '.join(map(repr, missing))}; give one per "
            f"label, e.g. model.verbalizer={{{labels[0]}: word, ...}}"
        )
    words = []
    for label in labels:
        given = verbalizer[label]
        chosen = []
        for word in [given] if isinstance(given, str) else list(given):
            ids = tokenizer(word, add_special_tokens=False)["input_ids"]
            if len(ids) != 1:
                raise TunelabError(
                    f"model.verbalizer: {word!r} ({label}) is {len(ids)} sub-tokens "
                    f"({' '.join(tokenizer.convert_ids_to_tokens(ids))}); choose a word the "
                    "tokenizer keeps whole"
                )
            if ids[0] == tokenizer.unk_token_id:
                raise TunelabError(
                    f"model.verbalizer: {word!r} ({label}) is not in the tokenizer's vocabulary"
                )
            chosen.append(ids[0])
        words.append(chosen)
    return words
