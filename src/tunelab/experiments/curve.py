"""`tunelab-curve`: a learning curve over K (examples per class) and seeds, for several methods.

Each point is an ordinary `tunelab-train` run directory, `OUT/METHOD/k{K}-seed{S}`; a point whose
`metrics.json` exists is read, not rerun, so an interrupted curve continues where it stopped and
a curve can be filled over several sittings. Writes `curve.csv` (one row a point), `curve.md`
(mean and standard deviation per method and K) and `curve.png` into OUT.
"""

from __future__ import annotations

import csv
import logging
import re
import statistics
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig

from tunelab.config import build, composed_train_config, hydra_command
from tunelab.errors import TunelabError
from tunelab.experiments.child_runs import overrides_of, run_once
from tunelab.training.rundir import markdown_table

log = logging.getLogger("tunelab")


def preset_name(cfg: DictConfig) -> str:
    """The data preset chosen (`data=NAME`), inside a running app or in a composed config."""
    if HydraConfig.initialized():
        return HydraConfig.get().runtime.choices["data"]
    return cfg.hydra.runtime.choices["data"]


def point_overrides(cfg: DictConfig, method: str, k: int, seed: int) -> list[str]:
    """The `tunelab-train` overrides of one point."""
    own = list(cfg.methods[method] or [])
    preset = preset_name(cfg)
    points = overrides_of({"data": preset, "data.k_shot": k, "seed": seed})
    return [*points, *own, *cfg.overrides]


def run_point(cfg: DictConfig, method: str, k: int, seed: int, out: Path) -> dict:
    """One point's metrics, training it first unless its run directory holds them (made with
    the same overrides)."""
    run_dir = out / method / f"k{k}-seed{seed}"
    what = f"curve point {method} K={k} seed={seed}"
    metrics = run_once("train", point_overrides(cfg, method, k, seed), run_dir, what)
    return {"run_dir": str(run_dir), **metrics}


# what a curve can plot: a split's score family, optionally of one label (test/f1_LOC)
METRIC = re.compile(r"(test|val)/(acc|f1|f1_macro|f1_micro|f1_strict|precision|recall|loss)(_.+)?")
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


def whole_numbers(cfg: DictConfig, key: str, low: int) -> list[int]:
    """A list setting of distinct integers >= low, or one line naming the key."""
    values = cfg.get(key)
    if not isinstance(values, ListConfig | list) or not values:
        raise TunelabError(f"{key}={values!r}: give a list, e.g. {key}=[8,16]")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise TunelabError(f"{key} holds {value!r}: use whole numbers >= {low}")
    repeated = [v for i, v in enumerate(values) if v in list(values)[:i]]
    if repeated:
        raise TunelabError(f"{key} lists {repeated[0]} twice: each point would count twice")
    return [int(v) for v in values]


def override_list(value) -> bool:
    return isinstance(value, ListConfig | list) and all(isinstance(o, str) for o in value)


def check_curve(cfg: DictConfig) -> None:
    """Every setting of the curve, before the first point trains."""
    whole_numbers(cfg, "k", 1)
    whole_numbers(cfg, "seeds", 0)
    if not cfg.methods:
        raise TunelabError("methods is empty: name at least one, e.g. methods={head: []}")
    for name, overrides in cfg.methods.items():
        if not SAFE_NAME.fullmatch(str(name)) or ".." in str(name):
            raise TunelabError(
                f"methods.{name}: a method's name is a folder name (letters, digits, _ . + -)"
            )
        if overrides is not None and (
            not isinstance(overrides, ListConfig) or not all(isinstance(o, str) for o in overrides)
        ):
            raise TunelabError(f"methods.{name}={overrides!r}: give a list of overrides")
    if not isinstance(cfg.overrides, ListConfig) or not all(
        isinstance(o, str) for o in cfg.overrides
    ):
        raise TunelabError(f"overrides={cfg.overrides!r}: give a list of overrides")
    if cfg.metric is not None:
        check_metric(cfg)


def check_metric(cfg: DictConfig) -> None:
    """`metric=` names a score family a run writes and, for a label's score (`test/f1_LOC`), a
    label of the data (read from the first point's DataModule; nothing is trained)."""
    found = METRIC.fullmatch(str(cfg.metric))
    if not found:
        raise TunelabError(
            f"metric={cfg.metric!r} is not a score a run writes: e.g. test/acc, test/f1_macro, "
            "test/f1, test/f1_LABEL, val/loss"
        )
    label = (found.group(3) or "").removeprefix("_")
    if not label or label in ("macro", "micro", "strict"):
        return
    method = next(iter(cfg.methods))
    first = point_overrides(cfg, method, int(cfg.k[0]), int(cfg.seeds[0]))
    labels = build(composed_train_config(first).data).labels
    names = {name.split("-", 1)[1] if name[:2] in ("B-", "I-") else name for name in labels}
    if label not in names:
        raise TunelabError(
            f"metric={cfg.metric}: {label} is not a label of the data ({', '.join(sorted(names))})"
        )


def metric_of(cfg: DictConfig, metrics: dict) -> str:
    if cfg.metric:
        if cfg.metric not in metrics:
            like = sorted(k for k in metrics if k.startswith(str(cfg.metric).split("_")[0]))
            raise TunelabError(
                f"metric={cfg.metric} is not in {metrics.get('run_dir')}/metrics.json; "
                f"it has {', '.join(like) or ', '.join(sorted(metrics))}"
            )
        return cfg.metric
    for key in ("test/acc", "test/f1"):
        if key in metrics:
            return key
    raise TunelabError("set metric=... (the metrics.json key the curve plots)")


def summarise(rows: list[dict]) -> list[dict]:
    """Mean, standard deviation and count per (method, K), in the order first met, and the mean
    bounds of the runs' 95% test intervals (how far one run's score is from the split's)."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["method"], row["k"]), []).append(row)
    summary = []
    for (method, k), group in groups.items():
        values = [row["value"] for row in group]
        point = {
            "method": method,
            "k": k,
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "n": len(values),
        }
        for bound in ("ci95_low", "ci95_high"):  # the mean of the runs' own test intervals
            known = [row[bound] for row in group if row.get(bound) is not None]
            point[bound] = statistics.fmean(known) if len(known) == len(group) else None
        summary.append(point)
    return summary


def interval(point: dict) -> str:
    if point["ci95_low"] is None:
        return ""
    return f"[{point['ci95_low']:.4f}, {point['ci95_high']:.4f}]"


def plot(summary: list[dict], metric: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for method in dict.fromkeys(s["method"] for s in summary):
        points = sorted((s for s in summary if s["method"] == method), key=lambda s: s["k"])
        ks = [s["k"] for s in points]
        line = axes.errorbar(
            ks,
            [s["mean"] for s in points],
            yerr=[s["std"] for s in points],
            marker="o",
            capsize=3,
            label=method,
        )
        if all(s["ci95_low"] is not None for s in points):
            low, high = [s["ci95_low"] for s in points], [s["ci95_high"] for s in points]
            axes.fill_between(ks, low, high, alpha=0.15, color=line[0].get_color())
    axes.set_xscale("log", base=2)
    axes.set_xlabel("K (labelled examples per class)")
    axes.set_ylabel(f"{metric} (mean ± sd over seeds; band: a run's 95% CI)")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def curve(cfg: DictConfig) -> list[dict]:
    """Run (or read) every point and write curve.csv, curve.md and curve.png."""
    check_curve(cfg)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for method in cfg.methods:
        for k in cfg.k:
            for seed in cfg.seeds:
                metrics = run_point(cfg, method, int(k), int(seed), out)
                metric = metric_of(cfg, metrics)
                rows.append(
                    {
                        "method": method,
                        "k": int(k),
                        "seed": int(seed),
                        "metric": metric,
                        "value": metrics[metric],
                        "ci95_low": metrics.get(f"{metric}_ci95_low"),
                        "ci95_high": metrics.get(f"{metric}_ci95_high"),
                        "train_examples": metrics.get("data/train_examples"),
                        "run_dir": metrics["run_dir"],
                    }
                )
    with (out / "curve.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = summarise(rows)
    metric = rows[0]["metric"]
    table = markdown_table(
        ["method", "K", f"{metric} mean", "sd", "seeds", "a run's 95% CI (mean bounds)"],
        [
            [s["method"], s["k"], f"{s['mean']:.4f}", f"{s['std']:.4f}", s["n"], interval(s)]
            for s in summary
        ],
    )
    title = f"data={preset_name(cfg)}"
    (out / "curve.md").write_text(f"# Learning curve: {title}\n\n{table}")
    plot(summary, metric, title, out / "curve.png")
    print(table)
    print(f"curve: {out}")
    return summary


main = hydra_command("curve", curve)


if __name__ == "__main__":
    main()
