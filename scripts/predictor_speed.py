"""Words per second of the in-memory `Predictor` (the model side of tunelab-serve) per backend, on
the load test's texts, in calls of 32 texts, best of three passes.

    .venv/bin/python scripts/predictor_speed.py --model-dir RUN/model [OTHER/model ...]
        [--backends torch onnx]

`onnx` and `onnx_int8` need the graphs `tunelab-export model_dir=RUN/model quantize=int8` writes.
With several model folders (a teacher and its distilled student), each is timed in the same
run, its passes taking turns with the others', and its speed is also given relative to the
first folder's on the same backend.
"""

from __future__ import annotations

import argparse
import json
import time

from load_test import default_texts

from tunelab.inference.predictor import Predictor

BACKENDS = {
    "torch": {},
    "onnx": {"backend": "onnx"},
    "onnx_int8": {"backend": "onnx", "onnx_model": "model.int8.onnx"},
}


def words_per_second(predictors: list[Predictor], texts: list[str], call: int, passes: int):
    """Each predictor's best words/s over `passes` passes; the passes take turns (one of each
    predictor, then again), so that a slow spell of a shared machine hits them alike."""
    words = sum(len(t.split()) for t in texts)
    for predictor in predictors:
        predictor.predict(texts[:call])  # warm-up
    best = [0.0] * len(predictors)
    for _ in range(passes):
        for k, predictor in enumerate(predictors):
            start = time.perf_counter()
            for i in range(0, len(texts), call):
                predictor.predict(texts[i : i + call])
            best[k] = max(best[k], words / (time.perf_counter() - start))
    return [round(b) for b in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", nargs="+", required=True)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    parser.add_argument("--call", type=int, default=32, help="texts a call")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    texts = default_texts()
    result = {}
    for name in args.backends:
        predictors = [Predictor(model_dir, **BACKENDS[name]) for model_dir in args.model_dir]
        speeds = words_per_second(predictors, texts, args.call, args.passes)
        for model_dir, speed in zip(args.model_dir, speeds, strict=True):
            result.setdefault(model_dir, {})[name] = speed
            ratio = speed / speeds[0]
            print(f"{model_dir} {name}: {speed} words/s ({ratio:.2f}x the first)", flush=True)
    print(json.dumps(result if len(args.model_dir) > 1 else result[args.model_dir[0]]))


if __name__ == "__main__":
    main()
