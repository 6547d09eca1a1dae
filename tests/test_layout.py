"""The layout shows the architecture: each room of triage/ imports only the rooms below it, and no
module imports another that (directly or not) imports it back, not even inside a function.

Rooms, from the bottom: custody (the ledger) <- triage.sources (opening and walking evidence) and
triage.text (bytes and documents as text, imports nothing of ours) <- triage.plugin (the API
plugins see) <- triage.keywords (keyword matching) and triage.hashsets (hash sets: import,
lookups, matching) <- triage.engine (runs) and triage.views (read-only queries) <- triage.report
(court reports), triage.bundle (verification bundles, which know no report module) and
triage.distributed (Celery), none of which imports another <- the CLI.
plugins/ sees triage only through triage.plugin (tests/triage/test_plugin_contract.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = {"triage.errors", "triage.processes", "triage.sanitize"}  # import nothing of ours
ALLOWED: dict[str, set[str]] = {
    "triage.sources": BASE | {"triage.sources", "custody"},
    "triage.plugin": BASE | {"triage.plugin", "triage.sources", "triage.text"},
    "triage.store": {"triage.store", "custody"},
    "triage.text": BASE | {"triage.text"},
    "triage.keywords": BASE
    | {"triage.keywords", "triage.text", "triage.plugin", "triage.sources", "triage.store", "custody"},
    "triage.hashsets": BASE | {"triage.hashsets", "triage.plugin", "triage.store", "custody"},
    "triage.engine": BASE
    | {
        "triage.engine",
        "triage.keywords",
        "triage.hashsets",
        "triage.text",
        "triage.plugin",
        "triage.sources",
        "triage.store",
        "custody",
    },
    "triage.views": BASE
    | {
        "triage.views",
        "triage.hashsets",
        "triage.text",
        "triage.plugin",
        "triage.sources",
        "triage.store",
        "custody",
    },
}
#: Rooms above the engine and the views: what a prosecutor receives, and the lab's workers.
ABOVE = BASE | {
    "triage.engine",
    "triage.views",
    "triage.keywords",
    "triage.hashsets",
    "triage.text",
    "triage.plugin",
    "triage.sources",
    "triage.store",
    "custody",
}
ALLOWED["triage.report"] = ABOVE | {"triage.report"}  # court reports
ALLOWED["triage.bundle"] = ABOVE | {"triage.bundle"}  # verification bundles (a report is a file given)
ALLOWED["triage.distributed"] = ABOVE | {"triage.distributed"}  # Celery workers and coordinator


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports from custody, triage or plugins, wherever the import is."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # ``from triage.sources import open`` names a module
                candidate = f"{node.module}.{alias.name}"
                yield node.lineno, candidate if _is_module(candidate) else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _is_module(name: str) -> bool:
    base = REPO.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def ours(name: str) -> bool:
    return name.split(".")[0] in ("custody", "triage", "plugins")


def sources() -> list[Path]:
    return sorted(p for pkg in ("custody", "triage", "plugins") for p in (REPO / pkg).rglob("*.py"))


def test_each_room_imports_only_the_rooms_below_it() -> None:
    problems = []
    for path in (REPO / "triage").rglob("*.py"):
        mod = module_name(path)
        room = ".".join(mod.split(".")[:2])
        allowed = ALLOWED.get(room)
        if allowed is None:  # triage/cli.py, launch.py, errors.py, sanitize.py, triage/__init__.py
            continue
        for line, target in imports(path):
            if ours(target) and not any(target == a or target.startswith(a + ".") for a in allowed):
                problems.append(f"{path.relative_to(REPO)}:{line} ({room}) imports {target}")
    assert not problems, "\n".join(problems)


def test_custody_knows_nothing_of_triage_or_plugins() -> None:
    bad = [
        f"{p.relative_to(REPO)}:{line} imports {t}"
        for p in (REPO / "custody").rglob("*.py")
        for line, t in imports(p)
        if t.split(".")[0] in ("triage", "plugins")
    ]
    assert not bad, "\n".join(bad)


def test_no_import_cycles_even_inside_functions() -> None:
    graph: dict[str, set[str]] = {}
    for path in sources():
        mod = module_name(path)
        graph[mod] = {t for _, t in imports(path) if ours(t) and t != mod and _is_module(t)}
    # a package's __init__ re-exporting its own modules is not a cycle through them
    for mod, targets in graph.items():
        graph[mod] = {t for t in targets if not mod.startswith(t + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_rooms_exist_and_say_what_they_hold() -> None:
    for room in ("sources", "plugin", "engine", "views", "store", "report", "bundle", "distributed"):
        init = REPO / "triage" / room / "__init__.py"
        assert init.is_file(), room
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), (
            f"triage/{room} has no docstring"
        )
