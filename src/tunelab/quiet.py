"""Console lines a tunelab user cannot act on, filtered where they arise: each by its logger or
its warning's category and message, never all warnings. `install()` runs once, on import of
`tunelab.config` (every command and the Python API import it).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("tunelab")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# transformers' load report rows: `key | STATUS | note`
REPORT_ROW = re.compile(r"^(\S+)\s*\|\s*([A-Z_]+)\s*\|", re.M)
# Parameters a pretrained encoder has and a fine-tuned head model drops (its pooler, its
# pre-training heads), and the new head a fine-tuning run starts from scratch.
UNUSED = ("pooler.", "cls.", "lm_head.", "vocab_", "mask_predictions.", "generator_")
MLM_HEADS = ("cls.", "lm_head.", "vocab_projector", "generator_lm_head")
# a task head, or the masked-LM head a base encoder never had (pre-training from it)
NEW_HEAD = ("classifier.", "score.", "qa_outputs.", *MLM_HEADS)


class ExpectedLoadReport(logging.Filter):
    """transformers' LOAD REPORT, when it says only what fine-tuning means (a new head, the
    pre-training heads left out), becomes one line in tunelab's log; any other report is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        # on a terminal, transformers colours the report (ANSI codes inside the words matched)
        message = ANSI.sub("", record.getMessage())
        if "LOAD REPORT" not in message:
            return True
        rows = REPORT_ROW.findall(message)
        rows = [(key, status) for key, status in rows if key != "Key"]
        expected = rows and all(
            (status == "MISSING" and key.startswith(NEW_HEAD))
            or (status == "UNEXPECTED" and key.startswith(UNUSED))
            for key, status in rows
        )
        if not expected:
            return True
        new = sorted(key for key, status in rows if status == "MISSING")
        if new:
            log.info("new head, trained from scratch: %s", ", ".join(new))
        return False


class NewHeadTies(logging.Filter):
    """transformers says "This checkpoint seem corrupted" when both weights of a tied pair are
    absent from the checkpoint. For a masked-LM head that the base encoder never had (its decoder
    bias and the head's bias), that is a new head, trained from scratch, not a corrupt file."""

    TIE = re.compile(r"checkpoint seem corrupted\. .*? to tie (\S+) to (\S+), but both are absent")

    def filter(self, record: logging.LogRecord) -> bool:
        found = self.TIE.search(ANSI.sub("", record.getMessage()))
        return not (found and all(name.startswith(MLM_HEADS) for name in found.groups()))


class LightningTips(logging.Filter):
    """Lightning's advertisements for its cloud products."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("💡 Tip:")


def install() -> None:
    logging.getLogger("transformers.modeling_utils").addFilter(ExpectedLoadReport())
    logging.getLogger("transformers.modeling_utils").addFilter(NewHeadTies())
    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).addFilter(LightningTips())
    # Lightning's own pytree code builds torch's deprecated LeafSpec; nothing a user can change.
    warnings.filterwarnings(
        "ignore", message=r"`isinstance\(treespec, LeafSpec\)`", category=FutureWarning
    )
    # "Loading weights" / "Writing model shards" bars: a second each, a line in every log. Said
    # through the environment when transformers is not imported yet: importing it takes most of
    # a second that `--help` should not spend.
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    else:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@contextmanager
def fresh_fit() -> Iterator[None]:
    """Lightning turns `fit(ckpt_path=None)` into "last" when an on-exception checkpoint is
    configured (tunelab's StopCheckpoint), and warns twice; train.py has already refused a run
    directory with stale checkpoints, so a fresh run starting fresh is what the user asked for."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`\.fit\(ckpt_path=None\)` was called without")
        warnings.filterwarnings(
            "ignore", message=r'\.fit\(ckpt_path="last"\) is set, but there is no'
        )
        yield
