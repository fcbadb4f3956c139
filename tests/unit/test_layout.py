"""The package's layout keeps its architecture (docs/architecture.md): shared machinery (`data/`,
`models/`) never imports a task, no module imports itself through others, only the core modules
sit flat in `tunelab/`, and nothing outside `tasks/` switches on a task's name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tunelab

PACKAGE = Path(tunelab.__file__).parent
# what may sit flat in tunelab/: the API, config, errors, the config checks, the file readers
# and the library-noise filters; everything else lives in a package of its kind
CORE = {"__init__", "__main__", "api", "config", "errors", "quiet", "schema", "untrusted"}
TASK_NAMES = ("ner", "classification", "mlm")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "conf" not in p.parts}


def imports() -> dict[str, set[str]]:
    """Each module's tunelab imports (at any depth: those inside functions count too), as the
    module names they reach."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in known else base)
        graph[name] = {m for m in found if m in known and m != name}
    return graph


def test_data_and_models_import_no_task():
    wrong = {
        name: sorted(m for m in reached if m.startswith("tunelab.tasks"))
        for name, reached in imports().items()
        if name.startswith(("tunelab.data", "tunelab.models"))
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            # a package and the modules its __init__ imports are one thing, not a cycle
            if len(part) > 1 and not all(p.startswith(min(part, key=len)) for p in part):
                found.append(sorted(part))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    assert cycles(imports()) == []


def test_the_cycle_check_finds_one():
    graph = {"tunelab.a": {"tunelab.b"}, "tunelab.b": {"tunelab.a"}, "tunelab.c": set()}
    assert cycles(graph) == [["tunelab.a", "tunelab.b"]]


def test_only_the_core_sits_flat():
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert flat <= CORE, sorted(flat - CORE)


def test_no_module_outside_tasks_switches_on_a_task_name():
    names = "|".join(TASK_NAMES)
    switch = re.compile(rf"""(==|!=|\bin)\s*\(?["']({names})["']|["']({names})["']\s*(==|!=)""")
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for name, path in modules().items()
        if not name.startswith("tunelab.tasks")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if switch.search(line)
    ]
    assert found == []
