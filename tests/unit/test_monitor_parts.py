"""The monitor's parts on hand-computed cases: the alert rule, windows closing in time order,
and reading records (bad ones counted and named by line, a growing file, standard input)."""

import io
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from omegaconf import OmegaConf

from tunelab.apps.monitor.records import IDLE, Skipped, parse_time, read_stream
from tunelab.apps.monitor.run import window_width
from tunelab.apps.monitor.windows import Rule, Windows, window_start
from tunelab.errors import TunelabError

HOUR = timedelta(hours=1)
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def fill(windows, hour, topic, total, negative):
    """`total` texts of `topic` in hour `hour`, the first `negative` of them negative."""
    closed = []
    for i in range(total):
        mood = "negative" if i < negative else "positive"
        score = 0.9 if i < negative else 0.1
        closed += windows.add(T0 + hour * HOUR, topic, mood, score, f"{topic} {hour} {i}")
    return closed


def test_the_rule_compares_a_window_with_the_pooled_share_of_the_ones_before():
    rule = Rule(baseline=3, min_count=5, min_baseline_count=10, margin=0.1, z=2.0)
    windows = Windows(HOUR, rule, "negative")
    closed = []
    for hour, negative in enumerate([2, 2, 2, 6, 3]):
        closed += fill(windows, hour, "a", 10, negative)
    closed += windows.close_open()
    assert [c.alert for c in closed] == [False, False, False, True, False]
    # hours 0-2 hold 30 texts, 6 negative: baseline (6 + 1) / (30 + 2); hour 3: 6 of 10
    third = closed[3]
    assert third.baseline_share == pytest.approx(7 / 32)
    assert third.z == pytest.approx((0.6 - 7 / 32) / ((7 / 32) * (25 / 32) / 10) ** 0.5)
    # the baseline trails three windows, the alerted one included: hours 1-3 hold 10 negatives
    assert closed[4].baseline_share == pytest.approx(11 / 32) and closed[4].share == 0.3
    # before 10 baseline texts there is no baseline
    assert closed[0].baseline_share is None and closed[0].z is None


def test_a_window_alerts_only_with_enough_texts_and_a_rise_past_the_margin():
    rule = Rule(baseline=4, min_count=5, min_baseline_count=10, margin=0.3, z=1.0)
    windows = Windows(HOUR, rule, "negative")
    closed = []
    for hour in range(3):
        closed += fill(windows, hour, "a", 10, 1)
    closed += fill(windows, 3, "a", 4, 4)  # every text negative, but only four
    closed += fill(windows, 4, "a", 10, 4)  # z above 1, rise below 0.3
    few, small = (closed + windows.close_open())[3:]
    assert few.baseline_share == pytest.approx(4 / 32) and few.z > 3  # hours 0-2: 3 of 30
    assert small.z > 1 and small.share - small.baseline_share < 0.3
    assert not few.alert and not small.alert


def test_windows_close_in_time_order_for_every_topic_and_late_texts_are_refused():
    windows = Windows(HOUR, Rule(), "negative", examples=2)
    assert windows.add(T0, "a", "negative", 0.7, "first") == []
    windows.add(T0, "a", "negative", 0.95, "worst")
    windows.add(T0, "a", "negative", 0.8, "second worst")
    windows.add(T0 + timedelta(minutes=30), "b", "positive", 0.1, "fine")
    closed = windows.add(T0 + 3 * HOUR, "a", "positive", 0.2, "later")
    # three hours closed, each for both topics seen so far, empty ones included
    assert [(c.start, c.topic, c.tally.count) for c in closed] == [
        (T0, "a", 3),
        (T0, "b", 1),
        (T0 + HOUR, "a", 0),
        (T0 + HOUR, "b", 0),
        (T0 + 2 * HOUR, "a", 0),
        (T0 + 2 * HOUR, "b", 0),
    ]
    examples = closed[0].alert_record()["examples"]
    assert [e["text"] for e in examples] == ["worst", "second worst"]
    assert windows.add(T0 + HOUR, "a", "negative", 0.9, "too late") is None
    assert window_start(T0 + timedelta(minutes=59, seconds=59), HOUR) == T0


def test_times_and_window_lengths_are_read_or_refused():
    assert parse_time("2026-03-01T00:00:00") == T0
    assert parse_time("2026-03-01T01:00:00+01:00") == T0
    assert parse_time(T0.timestamp()) == T0 and parse_time(str(int(T0.timestamp()))) == T0
    for bad in ("yesterday", "", True):
        with pytest.raises(ValueError):
            parse_time(bad)
    assert window_width("15min") == timedelta(minutes=15) and window_width("1d") == 24 * HOUR
    with pytest.raises(TunelabError, match="window='1 week'"):
        window_width("1 week")


def stream_config(path, **settings):
    base = {
        "input": str(path),
        "format": None,
        "follow": False,
        "poll_s": 0.01,
        "idle_stop_s": None,
        "columns": {"time": "time", "text": "text", "topic": None},
    }
    return OmegaConf.create({**base, **settings})


def test_bad_records_are_counted_and_named_by_line_never_dropped_silently(tmp_path, caplog):
    path = tmp_path / "stream.csv"
    path.write_text(
        "time,text\n"
        "2026-03-01T00:00:00,fine\n"
        ',"no time"\n'
        'soon,"bad time"\n'
        "2026-03-01T00:01:00,\n"
        '2026-03-01T00:02:00,"a text\nover two lines"\n'
        "2026-03-01T00:03:00,last\n"
    )
    sink = io.StringIO()
    skipped = Skipped(sink)
    records = list(read_stream(stream_config(path), skipped))
    assert [(r.text, r.where) for r in records] == [
        ("fine", f"{path}:2"),
        ("a text\nover two lines", f"{path}:6"),
        ("last", f"{path}:8"),
    ]
    assert skipped.counts == {"no time (time)": 1, "bad time 'soon'": 1, "no text (text)": 1}
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [line["where"] for line in lines] == [f"{path}:{n}" for n in (3, 4, 5)]
    assert f"{path}:4: skipped: bad time 'soon'" in caplog.text


def test_json_lines_with_a_topic_column_and_bad_lines(tmp_path):
    path = tmp_path / "stream.jsonl"
    rows = [
        {"time": 1772323200, "text": "one", "topic": "cards"},
        "not json",
        {"time": 1772323201, "text": "two"},
        [1, 2],
    ]
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    skipped = Skipped()
    settings = {"columns": {"time": "time", "text": "text", "topic": "topic"}}
    records = list(read_stream(stream_config(path, **settings), skipped))
    assert [(r.text, r.topic, r.time) for r in records] == [("one", "cards", T0)]
    assert sorted(skipped.counts) == [
        "no topic (topic)",
        "not JSON (Expecting value)",
        "not a JSON object",
    ]


def test_a_growing_file_is_followed_and_standard_input_is_read(tmp_path, monkeypatch):
    path = tmp_path / "growing.jsonl"
    path.write_text(json.dumps({"time": 0, "text": "already there"}) + "\n")

    def append_later():
        time.sleep(0.2)
        with path.open("a") as out:
            out.write(json.dumps({"time": 1, "text": "half"})[:10])
            out.flush()
            time.sleep(0.1)  # a line written in two parts is read whole
            out.write(json.dumps({"time": 1, "text": "half"})[10:] + "\n")

    writer = threading.Thread(target=append_later)
    writer.start()
    cfg = stream_config(path, follow=True, idle_stop_s=0.6)
    items = list(read_stream(cfg, Skipped()))
    writer.join()
    assert [i.text for i in items if i is not IDLE] == ["already there", "half"]
    assert IDLE in items  # the monitor labels what is waiting while the file is quiet
    monkeypatch.setattr("sys.stdin", io.StringIO('{"time": 0, "text": "piped"}\n'))
    assert [r.text for r in read_stream(stream_config("-"), Skipped())] == ["piped"]
    with pytest.raises(TunelabError, match="say format=csv or format=jsonl"):
        list(read_stream(stream_config(tmp_path / "stream.txt"), Skipped()))
