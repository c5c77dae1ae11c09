"""The house: poseact/ is grouped by stage, no module imports itself through others, and each stage imports only
the stages below it (docs/architecture.md). Imports are read with `ast`, lazy ones inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Bottom to top. learn sits above label: learn.plots draws the lecture timeline from label.segments.
STAGES = ("common", "pose", "people", "data", "label", "learn", "demo")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's own modules it imports (anywhere in its body)."""
    modules = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        # A package's __init__ is imported on the way to its modules; only modules count as edges.
        graph[name] = {m for m in found if m in modules and m != name and modules[m].name != "__init__.py"}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in STAGES else None


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a stage imports a stage above it."""
    bad = []
    for module, deps in graph.items():
        own = stage_of(module)
        for dep in deps:
            other = stage_of(dep)
            if own and other and STAGES.index(other) > STAGES.index(own):
                bad.append((module, dep))
    return sorted(bad)


def test_top_of_poseact_holds_cli_and_one_package_per_stage():
    top_modules = sorted(p.name for p in (ROOT / "poseact").glob("*.py"))
    assert len(top_modules) <= 4 and "cli.py" in top_modules, top_modules
    packages = sorted(p.name for p in (ROOT / "poseact").iterdir() if (p / "__init__.py").exists())
    assert packages == sorted(STAGES)


def test_no_module_imports_itself_through_others():
    assert find_cycle(import_graph(ROOT / "poseact")) is None


def test_each_stage_imports_only_stages_below_it():
    assert upward_imports(import_graph(ROOT / "poseact")) == []


def test_no_beam_in_the_library():
    for path in sorted((ROOT / "poseact").rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "apache_beam"], path


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "poseact"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


@pytest.mark.parametrize("files, cycle", [
    # A lazy import inside a function closes a circle all the same (the demo's old clips -> puppet -> clips).
    ({"demo/__init__.py": "", "demo/a.py": "from poseact.demo import b\n",
      "demo/b.py": "def f():\n    from poseact.demo.a import x\n"},
     ["poseact.demo.a", "poseact.demo.b", "poseact.demo.a"]),
    ({"common/__init__.py": "", "common/a.py": "import poseact.common.b\n", "common/b.py": "import os\n"}, None),
])
def test_the_walk_finds_circles_lazy_ones_included(tmp_path, files, cycle):
    assert find_cycle(import_graph(_package(tmp_path, files))) == cycle


def test_the_walk_finds_a_stage_importing_upwards(tmp_path):
    package = _package(tmp_path, {"pose/__init__.py": "", "people/__init__.py": "",
                                  "pose/a.py": "from poseact.people.b import rule\n", "people/b.py": "rule = 1\n"})
    assert upward_imports(import_graph(package)) == [("poseact.pose.a", "poseact.people.b")]
