"""`tunelab monitor`: label a stream of texts with a sentiment model (and a topic model, or a
topic column), count them per time window and topic, and alert when a topic's negative share
surges (the rule: tunelab.apps.monitor.windows). Writes, as the stream goes, windows.csv (one row
per topic and window), alerts.jsonl (one line per alert, also POSTed to `webhook`) and
skipped.jsonl (each record skipped, with its line); at the end metrics.json and trend.png."""

from __future__ import annotations

import csv
import json
import logging
import re
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from tunelab import schema
from tunelab.apps.monitor.records import IDLE, Skipped, read_stream
from tunelab.apps.monitor.windows import Closed, Rule, Windows
from tunelab.config import hydra_command
from tunelab.data.lines import json_line
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor
from tunelab.training.plots import timelines
from tunelab.training.rundir import write_metrics

log = logging.getLogger("tunelab")
UNITS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}
ROW = ("start", "topic", "count", "negative", "share", "baseline", "z", "alert")
ALL = "all"  # the one topic when records carry none and no topic model is given


def window_width(value: str) -> timedelta:
    """`30s`, `15min`, `1h`, `1d` as a timedelta."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|min|m|h|d)\s*", str(value))
    if not found or float(found.group(1)) <= 0:
        raise TunelabError(f"window={value!r}: give a length such as 30s, 15min, 1h or 1d")
    return timedelta(seconds=float(found.group(1)) * UNITS[found.group(2)])


def classifier(cfg: DictConfig, model_dir: str, role: str) -> Predictor:
    """The Predictor for one of the monitor's models, with the command's predictor settings."""
    settings = OmegaConf.to_container(cfg, resolve=False)
    predictor = Predictor.from_config(OmegaConf.create({**settings, "model_dir": model_dir}), None)
    if not predictor.labels or predictor.module.multi_label:
        raise TunelabError(f"{role}={model_dir}: not a single-label text classifier")
    return predictor


class Outputs:
    """The run folder's stream files, written as windows close."""

    def __init__(self, run_dir: Path, webhook: str | None) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.alerts = (run_dir / "alerts.jsonl").open("w", encoding="utf-8")
        self.windows_file = (run_dir / "windows.csv").open("w", newline="", encoding="utf-8")
        self.windows = csv.DictWriter(self.windows_file, ROW)
        self.windows.writeheader()
        self.skipped = (run_dir / "skipped.jsonl").open("w", encoding="utf-8")
        self.webhook, self.raised, self.webhook_failures = webhook, 0, 0

    def write(self, closed: list[Closed]) -> None:
        for window in closed:
            self.windows.writerow(window.row())
            if window.alert:
                self.alert(window.alert_record())
        self.windows_file.flush()

    def alert(self, record: dict) -> None:
        self.raised += 1
        self.alerts.write(json_line(record))
        self.alerts.flush()
        log.warning(
            "alert: %s, window %s: negative share %.2f against %.2f (%d texts)",
            record["topic"],
            record["window_start"],
            record["share"],
            record["baseline_share"],
            record["count"],
        )
        if self.webhook:
            body = json.dumps(record, ensure_ascii=False).encode("utf-8")
            request = urllib.request.Request(
                self.webhook, body, {"Content-Type": "application/json"}, method="POST"
            )
            try:
                urllib.request.urlopen(request, timeout=5).close()
            except OSError as err:  # an alert is never lost: it is in alerts.jsonl already
                self.webhook_failures += 1
                log.warning("webhook %s failed: %s", self.webhook, err)

    def close(self) -> None:
        for handle in (self.alerts, self.windows_file, self.skipped):
            handle.close()


def monitor(cfg: DictConfig) -> dict[str, float]:
    schema.check(cfg)
    width = window_width(cfg.window)
    if cfg.topic_model is not None and cfg.columns.topic is not None:
        raise TunelabError("give topic_model= or columns.topic=, not both")
    sentiment = classifier(cfg, cfg.sentiment_model, "sentiment_model")
    if cfg.negative_label not in sentiment.labels:
        raise TunelabError(
            f"negative_label={cfg.negative_label!r}; the sentiment model's labels are "
            f"{', '.join(sentiment.labels)}"
        )
    topics = classifier(cfg, cfg.topic_model, "topic_model") if cfg.topic_model else None
    run_dir = Path(cfg.paths.output_dir)
    outputs = Outputs(run_dir, cfg.webhook)
    skipped = Skipped(outputs.skipped)
    windows = Windows(width, Rule(**cfg.rule), cfg.negative_label, cfg.examples)
    started = time.perf_counter()
    progress = tqdm(desc="monitor", unit="texts")

    def label(batch: list) -> None:
        texts = [record.text for record in batch]
        felt = sentiment.predict(texts)
        named = topics.predict(texts) if topics else [None] * len(batch)
        for record, mood, topic in zip(batch, felt, named, strict=True):
            about = topic["label"] if topic else record.topic or ALL
            negative = mood["probabilities"][cfg.negative_label]
            closed = windows.add(record.time, about, mood["label"], negative, record.text)
            if closed is None:
                skipped(record.where, "late: before the window being counted")
            elif closed:
                outputs.write(closed)
        progress.update(len(batch))

    try:
        batch = []
        for item in read_stream(cfg, skipped):
            if item is not IDLE:
                batch.append(item)
            if batch and (item is IDLE or len(batch) >= cfg.batch_size):
                label(batch)
                batch = []
        if batch:
            label(batch)
        outputs.write(windows.close_open())
    finally:
        progress.close()
        outputs.close()
    seconds, labelled = time.perf_counter() - started, progress.n
    metrics = {
        "texts": labelled,
        "skipped": sum(skipped.counts.values()),
        "alerts": outputs.raised,
        "webhook_failures": outputs.webhook_failures,
        "seconds": seconds,
        "texts_per_s": labelled / seconds if seconds else 0.0,
    }
    metrics.update({f"skipped/{reason}": n for reason, n in skipped.counts.items()})
    write_metrics(run_dir / "metrics.json", metrics)
    draw_trend(run_dir, cfg.negative_label)
    log.info(
        "%d texts labelled (%.0f a second), %d skipped, %d alerts: %s",
        labelled,
        metrics["texts_per_s"],
        metrics["skipped"],
        outputs.raised,
        run_dir,
    )
    return metrics


def draw_trend(run_dir: Path, negative: str) -> None:
    """trend.png from windows.csv: each topic's negative share, its baseline, the alerts."""
    series = {}
    with (run_dir / "windows.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            topic = series.setdefault(row["topic"], {"x": [], "share": [], "baseline": []})
            topic["x"].append(datetime.fromisoformat(row["start"]))
            topic["share"].append(float(row["share"]) if row["share"] else None)
            topic["baseline"].append(float(row["baseline"]) if row["baseline"] else None)
            topic.setdefault("alerts", []).append(row["alert"] == "1")
    if series:
        timelines(run_dir / "trend.png", f"Share of {negative} texts per window", series)


main = hydra_command("monitor", monitor)


if __name__ == "__main__":
    main()
