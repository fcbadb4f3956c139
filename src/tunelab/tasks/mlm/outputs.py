"""Masked-LM run-directory files: the report of the split's loss, perplexity and accuracy."""

from __future__ import annotations

from pathlib import Path


def write_outputs(run_dir: Path, module, datamodule, split: str) -> str:
    """report.txt: how much text the split held and how well masked sub-tokens were predicted."""
    scores = module.evaluation("test").scores
    reading, masking = datamodule.reading, datamodule.pretraining
    lines = [
        f"split {split}: {len(datamodule.raw_texts(split))} texts, "
        f"{len(datamodule.encoded(split))} blocks of up to {reading.max_length} sub-tokens, "
        f"{int(scores.get('test/masked_tokens', 0))} masked "
        f"(mlm_probability {masking.mlm_probability}, "
        f"whole_word_mask {masking.whole_word_mask})",
        f"loss {scores.get('test/loss', float('nan')):.4f}  "
        f"perplexity {scores.get('test/perplexity', float('nan')):.2f}  "
        f"masked-token accuracy {scores.get('test/accuracy', float('nan')):.4f}",
    ]
    report = "\n".join(lines) + "\n"
    (run_dir / "report.txt").write_text(report)
    return report
