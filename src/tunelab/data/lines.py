"""Plain-text input and JSON-lines output of the prediction commands."""

from __future__ import annotations

import json
from pathlib import Path


def read_lines(path: Path) -> list[str]:
    """Lines of a text file without line ends; the final newline adds no empty line."""
    texts = path.read_text(encoding="utf-8").split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    return [text.rstrip("\r") for text in texts]


def write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
