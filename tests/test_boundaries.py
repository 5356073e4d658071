"""The house's import boundaries, read from the source: every module's syntax tree is walked, nothing is
imported or run. Imports inside functions count like those at the top.

- Streamlit is imported only by app.py, pages/ and playground/ui/ (the tests drive the app through
  AppTest; a few named benchmarks measure Streamlit itself).
- `playground.ui` is imported only by app.py, pages/, playground/ui/ itself and the tests.
- No import circle among the `playground` modules.
- Nothing below the engine imports it: the modules the engine imports (directly or through others) reach
  none of the engine, runner, race or pool; checkpoint, export and budget do not reach the engine.
- playground/ui/ modules call no Streamlit function when imported; pages stay under 100 lines and ui
  modules under 200.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("app.py", "pages", "playground", "benchmarks", "tests", "deploy")  # every Python file of the repository
STREAMLIT = ("streamlit", "streamlit_drawable_canvas")
UI = "playground.ui"
STREAMLIT_ROOMS = ("app.py", "pages/", "playground/ui/")  # the only files of the app that import Streamlit
STREAMLIT_BENCHMARKS = {  # benchmarks that measure Streamlit itself, with the reason
    "benchmarks/st_client.py": "a client speaking Streamlit's protocol (its protobuf messages)",
    "benchmarks/load_test.py": "records Streamlit's version with its results",
    "benchmarks/boundary_frame.py": "sets Plotly's template to Streamlit's, as the page has it",
    "benchmarks/live_chart_frame.py": "draws live frames inside a Streamlit script run (AppTest)",
    "benchmarks/poll_cost.py": "times the live view's poll inside a Streamlit script run (AppTest)",
}
UI_BENCHMARKS = {  # benchmarks that measure a playground.ui module itself, with the reason
    "benchmarks/live_chart_frame.py": "st.plotly_chart against the live chart component (playground.ui.live_chart)",
    "benchmarks/poll_cost.py": "one poll of the live view (playground.ui.live_view), before and after its cheap path",
}
ENGINE = "playground.engine"
ABOVE_THE_FLOOR = (ENGINE, "playground.runner", "playground.race", "playground.pool")  # the engine and its runners
NO_ENGINE = ("playground.checkpoint", "playground.export", "playground.budget")  # need the model, not the engine


@dataclass(frozen=True)
class Import:
    path: str  # the importing file, relative to the repository root
    line: int
    module: str  # the absolute dotted name imported
    text: str  # the import statement, on one line

    def __str__(self) -> str:
        return f"{self.path}:{self.line} `{self.text}`"


def module_name(path: str) -> str:
    """'playground/ui/__init__.py' -> 'playground.ui', 'playground/engine.py' -> 'playground.engine'."""
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_sources() -> dict[str, str]:
    """Path (relative, with slashes) -> source of every Python file in SOURCES."""
    files = []
    for name in SOURCES:
        top = ROOT / name
        files += [top] if top.is_file() else [p for p in top.rglob("*.py") if "__pycache__" not in p.parts]
    return {file.relative_to(ROOT).as_posix(): file.read_text(encoding="utf-8") for file in sorted(files)}


def imports_in(sources: dict[str, str]) -> list[Import]:
    """Every import statement of every file, at any depth, resolved to absolute module names: `from a import b`
    names the module a.b when that is a file here, else a."""
    modules = {module_name(path) for path in sources}
    found = []
    for path, source in sources.items():
        package = module_name(path) if path.endswith("__init__.py") else module_name(path).rpartition(".")[0]
        for node in ast.walk(ast.parse(source, path)):
            if isinstance(node, ast.Import):
                found += [Import(path, node.lineno, alias.name, ast.unparse(node)) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node.module, node.level, package)
                targets = dict.fromkeys(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                                        for a in node.names)
                found += [Import(path, node.lineno, target, ast.unparse(node)) for target in targets]
    return found


def _absolute(module: str | None, level: int, package: str) -> str:
    if not level:
        return module or ""
    base = ".".join(package.split(".")[:len(package.split(".")) - (level - 1)])
    return f"{base}.{module}" if module else base


def streamlit_problems(imports: list[Import]) -> list[str]:
    return [str(i) for i in imports if i.module.split(".")[0] in STREAMLIT
            and not i.path.startswith(("tests/", *STREAMLIT_ROOMS)) and i.path not in STREAMLIT_BENCHMARKS]


def ui_problems(imports: list[Import]) -> list[str]:
    return [str(i) for i in imports if (i.module == UI or i.module.startswith(UI + "."))
            and not i.path.startswith(("tests/", *STREAMLIT_ROOMS)) and i.path not in UI_BENCHMARKS]


def playground_graph(imports: list[Import]) -> dict[str, dict[str, Import]]:
    """Module -> {module it imports -> the first statement that does}, among the playground modules."""
    graph: dict[str, dict[str, Import]] = {}
    for i in imports:
        source = module_name(i.path)
        if source.split(".")[0] == "playground":
            graph.setdefault(source, {})
            if i.module.split(".")[0] == "playground" and i.module != source:
                graph[source].setdefault(i.module, i)
    return graph


def circles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Import circles (a, b, ..., a): the shortest through each module not on a circle found before it."""
    found, seen = [], set()
    for start in sorted(graph):
        if start in seen:
            continue
        path = _path(graph, start, lambda node: start in graph.get(node, {}))
        if path:
            found.append([*path, start])
            seen.update(path)
    return found


def _path(graph: dict[str, dict[str, Import]], start: str, is_end) -> list[str] | None:
    """The shortest import chain from `start` to another module where `is_end` holds."""
    parents, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for node in frontier:
            if node != start and is_end(node):
                chain = [node]
                while parents[chain[-1]] is not None:
                    chain.append(parents[chain[-1]])
                return chain[::-1]
            for target in sorted(graph.get(node, {})):
                if target not in parents:
                    parents[target] = node
                    nxt.append(target)
        frontier = nxt
    return None


def reachable(graph: dict[str, dict[str, Import]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for target in graph.get(stack.pop(), {}):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen - {start}


def describe(graph: dict[str, dict[str, Import]], chain: list[str]) -> str:
    """'a -> b -> c', then the statement behind each step."""
    steps = [f"    {graph[a][b]}" for a, b in zip(chain, chain[1:])]
    return " -> ".join(chain) + "\n" + "\n".join(steps)


def reaches(graph: dict[str, dict[str, Import]], start: str, forbidden) -> str | None:
    """The import chain by which `start` reaches one of `forbidden`, described; None if it reaches none."""
    chain = _path(graph, start, lambda node: node in forbidden)
    return describe(graph, chain) if chain else None


# --- the tests ------------------------------------------------------------------------------------

IMPORTS = imports_in(read_sources())
GRAPH = playground_graph(IMPORTS)


def test_streamlit_is_imported_only_by_the_pages_and_playground_ui():
    fail_if(streamlit_problems(IMPORTS), "Streamlit imported outside app.py, pages/ and playground/ui/:")


def test_playground_ui_is_imported_only_by_the_pages_and_itself():
    fail_if(ui_problems(IMPORTS), "playground.ui imported outside app.py, pages/, playground/ui/ and the tests:")


def test_the_playground_modules_import_no_circle():
    fail_if([describe(GRAPH, circle) for circle in circles(GRAPH)], "import circles:")


def test_nothing_below_the_engine_imports_it_or_its_runners():
    assert ENGINE in GRAPH, f"no module {ENGINE}: update ENGINE in this test"
    below = reachable(GRAPH, ENGINE) - set(ABOVE_THE_FLOOR)
    fail_if([found for module in sorted(below) if (found := reaches(GRAPH, module, ABOVE_THE_FLOOR))],
            "the engine imports these modules, and they import the engine or a runner:")


def test_checkpoint_export_and_budget_do_not_import_the_engine():
    assert set(NO_ENGINE) <= set(GRAPH), f"missing: {set(NO_ENGINE) - set(GRAPH)}: update NO_ENGINE in this test"
    fail_if([found for module in NO_ENGINE if (found := reaches(GRAPH, module, {ENGINE}))],
            "these modules import the engine:")


def fail_if(problems: list[str], heading: str) -> None:
    if problems:
        pytest.fail("\n".join([heading, *problems]), pytrace=False)


# --- the checker itself ---------------------------------------------------------------------------

def test_the_checker_flags_streamlit_imported_in_the_core():
    sources = {"playground/engine.py": "import os\n\ndef show():\n    from streamlit import write\n",
               "playground/ui/panel.py": "import streamlit as st\n", "pages/9_X.py": "import streamlit as st\n",
               "tests/test_x.py": "from streamlit.testing.v1 import AppTest\n",
               "playground/ui/__init__.py": "", "playground/cli.py": "from . import ui\nfrom .ui import panel\n"}
    imports = imports_in(sources)
    assert streamlit_problems(imports) == ["playground/engine.py:4 `from streamlit import write`"]
    assert [problem.split(":")[0] for problem in ui_problems(imports)] == ["playground/cli.py"] * 2


def test_the_checker_finds_circles_and_imports_of_the_engine_from_below():
    sources = {"playground/engine.py": "from .config import X\n", "playground/config.py": "from . import layers\n",
               "playground/layers.py": "def f():\n    from playground.runner import R\n",
               "playground/runner.py": "from .engine import Engine\n", "playground/budget.py": "import os\n"}
    graph = playground_graph(imports_in(sources))
    assert circles(graph) == [["playground.config", "playground.layers", "playground.runner", "playground.engine",
                               "playground.config"]]
    assert reaches(graph, "playground.layers", ABOVE_THE_FLOOR).startswith("playground.layers -> playground.runner\n")
    assert "playground/layers.py:2 `from playground.runner import R`" in reaches(graph, "playground.config", {ENGINE})
    assert reaches(graph, "playground.budget", {ENGINE}) is None


def streamlit_calls_at_import(source: str) -> list[int]:
    """Lines of module-level statements that call `st.*` when the module is imported (decorators such as
    `@st.cache_resource` and the bodies of functions and classes do not count)."""
    lines = []
    for statement in ast.parse(source).body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                root = node.func
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id == "st":
                    lines.append(node.lineno)
    return lines


def test_ui_modules_run_no_streamlit_call_when_imported():
    found = [f"{path}:{line}" for path, source in read_sources().items() if path.startswith("playground/ui/")
             for line in streamlit_calls_at_import(source)]
    assert not found, "playground/ui/ modules define functions; these call Streamlit at import:\n" + "\n".join(found)


def test_the_import_time_check_sees_a_module_level_call_but_not_a_decorator():
    source = "import streamlit as st\n\n@st.cache_resource\ndef f():\n    st.write(1)\n\nst.title('x')\n"
    assert streamlit_calls_at_import(source) == [7]


PAGE_LINES, UI_MODULE_LINES = 100, 200  # a page is a layout of panels; a panel is one concern


def test_pages_are_short_layouts_and_ui_modules_stay_small():
    limits = {"app.py": PAGE_LINES, "pages/": PAGE_LINES, "playground/ui/": UI_MODULE_LINES}
    too_long = [f"{path}: {len(source.splitlines())} lines (at most {limit})"
                for path, source in read_sources().items()
                for room, limit in limits.items() if path.startswith(room) and len(source.splitlines()) > limit]
    assert not too_long, "split these into panels:\n" + "\n".join(too_long)
