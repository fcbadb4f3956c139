#!/usr/bin/env bash
# Recommendation from text on MovieLens-100k (README: Recommendation from text), from a fresh
# checkout: bash examples/recommend/run.sh   (about 40 minutes on two CPU cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
make setup
T=.venv/bin/tunelab
out=outputs/examples/recommend
# 1. a pair classifier: a user's five last liked movies and a candidate movie, liked or other
$T train data=movielens hydra.run.dir=$out/model-run
# 2. each user's last liked movie among 99 unrated ones: the model against popularity and
#    item-to-item co-occurrence (report.txt, metrics.json, hit_rate.png)
$T recommend model_dir=$out/model-run/model hydra.run.dir=$out/ranking
cat $out/ranking/report.txt
