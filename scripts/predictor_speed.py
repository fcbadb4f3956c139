"""Words per second of the in-memory `Predictor` (the model side of tunelab-serve) per backend, on
the load test's texts, in calls of 32 texts, best of three passes.

    .venv/bin/python scripts/predictor_speed.py --model-dir RUN/model [OTHER/model ...]
        [--backends torch onnx]

`onnx` and `onnx_int8` need the graphs `tunelab-export model_dir=RUN/model quantize=int8` writes.
With several model folders (a teacher and its distilled student), each is timed in the same
run, in turns, and its speed is also given relative to the first folder's on the same backend.
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


def words_per_second(predictor: Predictor, texts: list[str], call: int, passes: int) -> float:
    words = sum(len(t.split()) for t in texts)
    predictor.predict(texts[:call])  # warm-up
    best = 0.0
    for _ in range(passes):
        start = time.perf_counter()
        for i in range(0, len(texts), call):
            predictor.predict(texts[i : i + call])
        best = max(best, words / (time.perf_counter() - start))
    return round(best)


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
        for model_dir in args.model_dir:
            predictor = Predictor(model_dir, **BACKENDS[name])
            speed = words_per_second(predictor, texts, args.call, args.passes)
            result.setdefault(model_dir, {})[name] = speed
            ratio = speed / result[args.model_dir[0]][name]
            print(f"{model_dir} {name}: {speed} words/s ({ratio:.2f}x the first)", flush=True)
    print(json.dumps(result if len(args.model_dir) > 1 else result[args.model_dir[0]]))


if __name__ == "__main__":
    main()
