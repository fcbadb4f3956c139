"""Replay held-out tweets as a timed stream with planted surges, and score `tunelab monitor` on it
(README: Monitoring with alerts).

The texts are real (the test split of data=tweets, or of data=chinese_reviews with --corpus,
each with its judged sentiment); the times,
the topics (channels named topic-1..N) and the surges are simulated: every channel gets `rate`
texts a window, a share `base` of them drawn from the negative tweets, and in a planted surge
a share `surge_share` for `surge_length` windows. Texts are drawn with replacement.

  python scripts/monitor_replay.py build --out outputs/monitor/replay
  tunelab monitor input=outputs/monitor/replay/stream.jsonl columns.topic=topic \\
      sentiment_model=RUN/model hydra.run.dir=outputs/monitor/replay/run
  python scripts/monitor_replay.py score --out outputs/monitor/replay

`score` reads alerts.jsonl and writes score.json: surges found within two windows of their
start, the delay, and false alarms (alerts outside a surge's windows) per 100 windows.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tunelab.data.lines import json_line, read_lines
from tunelab.data.text_splits import load_examples

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def plan_surges(args, rng: random.Random) -> list[dict]:
    """Surges at least `gap` windows apart, after the first `warmup` windows."""
    surges, window = [], args.warmup
    room = args.windows - args.warmup - args.surges * (args.surge_length + args.gap)
    if room < 0:
        raise SystemExit("too many surges for the windows: lower --surges or raise --windows")
    slack = sorted(rng.randint(0, room) for _ in range(args.surges))
    used = 0
    for shift in slack:
        window += shift - used
        used = shift
        topic = f"topic-{rng.randint(1, args.topics)}"
        surges.append({"topic": topic, "start": window, "length": args.surge_length})
        window += args.surge_length + args.gap
    return surges


def build(args) -> None:
    rng = random.Random(args.seed)
    held_out = load_examples("test", corpus=args.corpus)
    negative = [e.text for e in held_out if e.label == "negative"]
    other = [e.text for e in held_out if e.label != "negative"]
    surges = plan_surges(args, rng)
    surging = {(s["topic"], s["start"] + i): True for s in surges for i in range(s["length"])}
    width = timedelta(minutes=args.window_minutes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with (out / "stream.jsonl").open("w", encoding="utf-8") as stream:
        for window in range(args.windows):
            rows = []
            for t in range(1, args.topics + 1):
                topic = f"topic-{t}"
                share = args.surge_share if surging.get((topic, window)) else args.base
                for _ in range(args.rate):
                    pool = negative if rng.random() < share else other
                    offset = timedelta(seconds=rng.uniform(0, width.total_seconds()))
                    rows.append((START + window * width + offset, topic, rng.choice(pool)))
            for when, topic, text in sorted(rows):
                record = {"time": when.isoformat(), "topic": topic, "text": text}
                stream.write(json_line(record))
            count += len(rows)
    plan = {**vars(args), "records": count, "surges": surges, "start": START.isoformat()}
    plan.pop("func", None)
    (out / "surges.json").write_text(json.dumps(plan, indent=2) + "\n")
    print(f"{count} records, {len(surges)} surges: {out / 'stream.jsonl'}")


def score(args) -> None:
    out = Path(args.out)
    plan = json.loads((out / "surges.json").read_text())
    width = timedelta(minutes=plan["window_minutes"])
    run = Path(args.run) if args.run else out / "run"
    alerts = []
    for line in read_lines(run / "alerts.jsonl"):
        alert = json.loads(line)
        window = (datetime.fromisoformat(alert["window_start"]) - START) // width
        alerts.append((alert["topic"], window))
    during = {(s["topic"], s["start"] + i) for s in plan["surges"] for i in range(s["length"])}
    delays, missed = [], []
    for surge in plan["surges"]:
        hits = [
            w - surge["start"] for t, w in alerts if t == surge["topic"] and w >= surge["start"]
        ]
        first = min(hits, default=None)
        if first is not None and first <= 2:
            delays.append(first)
        else:
            missed.append(surge)
    false = [a for a in alerts if a not in during]
    windows, topics = plan["windows"], plan["topics"]
    result = {
        "records": plan["records"],
        "windows": windows,
        "surges": len(plan["surges"]),
        "found_within_two_windows": len(delays),
        "missed": len(missed),
        "mean_delay_windows": statistics.mean(delays) if delays else None,
        "delays": delays,
        "alerts": len(alerts),
        "false_alarms": len(false),
        "false_alarms_per_100_windows": 100 * len(false) / windows,
        "false_alarms_per_100_topic_windows": 100 * len(false) / (windows * topics),
    }
    (run / "score.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True)
    making = commands.add_parser("build", help="write stream.jsonl and surges.json")
    making.add_argument("--out", default="outputs/monitor/replay")
    making.add_argument("--corpus", default="tweets", choices=["tweets", "chinese_reviews"])
    making.add_argument("--windows", type=int, default=240, help="windows in the stream")
    making.add_argument("--window-minutes", type=int, default=60)
    making.add_argument("--topics", type=int, default=5)
    making.add_argument("--rate", type=int, default=60, help="texts a topic a window")
    making.add_argument("--base", type=float, default=0.3, help="negative share, usually")
    making.add_argument("--surge-share", type=float, default=0.7)
    making.add_argument("--surge-length", type=int, default=3, help="windows")
    making.add_argument("--surges", type=int, default=10)
    making.add_argument("--warmup", type=int, default=24, help="windows before the first surge")
    making.add_argument("--gap", type=int, default=12, help="windows between surges, at least")
    making.add_argument("--seed", type=int, default=0)
    making.set_defaults(func=build)
    scoring = commands.add_parser("score", help="score RUN/alerts.jsonl against the plan")
    scoring.add_argument("--out", default="outputs/monitor/replay")
    scoring.add_argument("--run", default=None, help="the monitor's run folder (OUT/run)")
    scoring.set_defaults(func=score)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
