"""Summarise a `mutmut run` (make mutate): mutants killed per source file, the overall score,
and the survivors by name (`mutmut show NAME` prints one as a diff).

A mutant with no covering test counts as a survivor: it is a change no test would notice.
Reads mutmut's own result files (mutants/**/*.meta); writes mutants/score.md and prints it.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from tunelab.training.rundir import markdown_table  # noqa: E402

KILLED = {1, 3, 37}  # tests failed, pytest internal error, caught by type check
TIMEOUT = {36, 24, -24, 152, 255}  # an endless loop is noticed too


def main(root: Path = Path("mutants")) -> int:
    rows, survivors, totals = [], [], Counter()
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        counts = Counter()
        for name, code in codes.items():
            if code in KILLED or code in TIMEOUT:
                counts["killed"] += 1
            elif code is None:
                counts["not run"] += 1
            else:
                counts["survived"] += 1
                survivors.append(name)
        totals.update(counts)
        source = str(meta.relative_to(root)).removesuffix(".meta")
        judged = counts["killed"] + counts["survived"]
        share = f"{counts['killed'] / judged:.0%}" if judged else "-"
        rows.append([source, counts["killed"], counts["survived"], counts["not run"], share])
    judged = totals["killed"] + totals["survived"]
    if not judged:
        print("no mutmut results under mutants/: run `make mutate`", file=sys.stderr)
        return 1
    score = totals["killed"] / judged
    rows.append(["all", totals["killed"], totals["survived"], totals["not run"], f"{score:.1%}"])
    text = markdown_table(["file", "killed", "survived", "not run", "killed share"], rows)
    text += "\nSurvivors (mutmut show NAME):\n" + "".join(f"- {name}\n" for name in survivors)
    (root / "score.md").write_text(text)
    print(text)
    print(f"mutation score: {score:.1%} of {judged} mutants killed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
