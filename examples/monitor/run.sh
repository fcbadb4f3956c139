#!/usr/bin/env bash
# Sentiment monitoring with alerts on a replayed stream (README: Monitoring with alerts), from a
# fresh checkout: bash examples/monitor/run.sh   (about 30 minutes on two CPU cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
make setup
T=.venv/bin/tunelab
out=outputs/examples/monitor
# 1. a sentiment model: tweets judged negative, neutral or positive
$T train data=tweets trainer.max_epochs=1 hydra.run.dir=$out/tweets
# 2. ten days of held-out tweets, an hour a window, five channels, ten planted surges
.venv/bin/python scripts/monitor_replay.py build --out $out/replay
# 3. the monitor on that stream: windows.csv, alerts.jsonl, trend.png
$T monitor input=$out/replay/stream.jsonl columns.topic=topic \
  sentiment_model=$out/tweets/model hydra.run.dir=$out/replay/run
# 4. surges found, their delay, false alarms per 100 windows
.venv/bin/python scripts/monitor_replay.py score --out $out/replay
