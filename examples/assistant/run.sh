#!/usr/bin/env bash
# A customer-service assistant on Banking77 (README: Customer-service assistant), from a fresh
# checkout: bash examples/assistant/run.sh   (about 25 minutes on two CPU cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
make setup
T=.venv/bin/tunelab
out=outputs/examples/assistant
# 1. an intent classifier (the packaged MiniLM, fine-tuned on the 9,003 training questions)
$T train data=banking77 hydra.run.dir=$out/intents
# 2. answers, the unsure threshold (dev precision 0.95) and the index of past questions
$T assistant model_dir=$out/intents/model answers=examples/assistant/answers.csv \
  hydra.run.dir=$out/assistant
# 3. use it: an answer, or "unsure" with the nearest past questions
echo "I still have not received my new card, what should I do?" > $out/questions.txt
$T predict model_dir=$out/intents/model input=$out/questions.txt output=$out/answers.jsonl
$T search model_dir=$out/intents/model query="how do I top up with cash" k=3
