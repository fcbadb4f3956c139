"""`tunelab monitor` on the tiny classifier: a stream with a planted surge gives the alert the
model's own labels give by hand, to alerts.jsonl and a webhook on the loopback; bad records are
counted and named."""

import csv
import json
import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.conftest import ORGS, PEOPLE, PLACES, compose_train
from tunelab.apps.monitor.run import monitor
from tunelab.apps.monitor.windows import Rule, Windows
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
TOPICS = ("cards", "loans", "app")
HOURS, PER_HOUR, SURGE = 12, 20, (9, "loans")


def planted_stream(path):
    """Each topic 20 texts an hour for 12 hours, 4 of them about travel (the "negative" label
    here); at hour 9, 16 of the loans texts are; three bad records among them."""
    rng = random.Random(5)
    rows = []
    for hour in range(HOURS):
        for topic in TOPICS:
            travel = 16 if (hour, topic) == SURGE else 4
            for i in range(PER_HOUR):
                place = rng.choice(PLACES) if i < travel else rng.choice(ORGS)
                when = T0 + timedelta(hours=hour, minutes=i)
                rows.append(
                    {
                        "time": when.isoformat(),
                        "text": f"{rng.choice(PEOPLE)} {place} .",
                        "topic": topic,
                    }
                )
    rows.sort(key=lambda row: row["time"])
    rows[5]["time"] = "not a time"
    rows[50]["text"] = ""
    del rows[70]["time"]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return rows


class Hook(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.received.clear()
    yield f"http://127.0.0.1:{server.server_port}/alerts"
    server.shutdown()


def test_a_planted_surge_alerts_as_the_rule_computes_it_by_hand(classified_run, tmp_path, webhook):
    run_dir, _ = classified_run
    rows = planted_stream(tmp_path / "stream.jsonl")
    settings = [
        f"input={tmp_path / 'stream.jsonl'}",
        f"sentiment_model={run_dir / 'model'}",
        "negative_label=travel",
        "columns.topic=topic",
        "rule.baseline=6",
        "rule.min_baseline_count=60",
        f"webhook={webhook}",
        "batch_size=16",
    ]
    out = tmp_path / "run"
    metrics = monitor(compose_train(out, settings, config_name="monitor"))
    # by hand: the same rule over the model's own labels of the good records
    good = [r for i, r in enumerate(rows) if i not in (5, 50, 70)]
    labels = Predictor(str(run_dir / "model")).predict([r["text"] for r in good])
    windows = Windows(timedelta(hours=1), Rule(baseline=6, min_baseline_count=60), "travel")
    closed = []
    for row, label in zip(good, labels, strict=True):
        when = datetime.fromisoformat(row["time"])
        score = label["probabilities"]["travel"]
        closed += windows.add(when, row["topic"], label["label"], score, row["text"])
    expected = [c.alert_record() for c in closed + windows.close_open() if c.alert]
    alerts = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert alerts == expected and Hook.received == expected
    # the planted surge is what alerts (the model labels these texts well enough)
    assert [(a["window_start"], a["topic"]) for a in alerts] == [
        ((T0 + timedelta(hours=SURGE[0])).isoformat(), SURGE[1])
    ]
    assert len(alerts[0]["examples"]) == 3 and alerts[0]["count"] == PER_HOUR
    with (out / "windows.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == HOURS * len(TOPICS)
    assert metrics["texts"] == len(good) and metrics["skipped"] == 3 and metrics["alerts"] == 1
    skipped = [json.loads(line) for line in (out / "skipped.jsonl").read_text().splitlines()]
    assert sorted(s["where"].rsplit(":", 1)[1] for s in skipped) == ["51", "6", "71"]
    assert (out / "trend.png").stat().st_size > 0
    assert json.loads((out / "metrics.json").read_text())["alerts"] == 1


def test_a_model_without_the_negative_label_is_refused(classified_run, tmp_path):
    run_dir, _ = classified_run
    (tmp_path / "s.jsonl").write_text('{"time": 0, "text": "x"}\n')
    settings = [f"input={tmp_path / 's.jsonl'}", f"sentiment_model={run_dir / 'model'}"]
    cfg = compose_train(tmp_path / "run", settings, config_name="monitor")
    with pytest.raises(TunelabError, match="negative_label='negative'; the sentiment model's"):
        monitor(cfg)


def test_a_topic_model_names_each_record_s_topic(classified_run, tmp_path):
    """The tiny classifier as both models: its `travel` topic is all `travel` sentiment."""
    run_dir, _ = classified_run
    rows = planted_stream(tmp_path / "stream.jsonl")[:120]
    (tmp_path / "short.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = run_dir / "model"
    settings = [
        f"input={tmp_path / 'short.jsonl'}",
        f"sentiment_model={model}",
        f"topic_model={model}",
        "negative_label=travel",
    ]
    out = tmp_path / "run"
    monitor(compose_train(out, settings, config_name="monitor"))
    with (out / "windows.csv").open() as handle:
        windows = list(csv.DictReader(handle))
    assert {w["topic"] for w in windows} == {"travel", "work"}
    assert {w["share"] for w in windows if w["topic"] == "travel" and w["count"] != "0"} == {"1.0"}
    both = compose_train(tmp_path / "both", [*settings, "columns.topic=topic"], "monitor")
    with pytest.raises(TunelabError, match="give topic_model= or columns.topic=, not both"):
        monitor(both)
