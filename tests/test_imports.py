"""No import cycles: every module of autograd_lite (visualize/ included, installed as
autograd_lite.visualize), every import statement in it
(at the top or inside a function: a late import is a cycle postponed, not removed)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"autograd_lite": ROOT / "autograd_lite", "autograd_lite.visualize": ROOT / "visualize"}


def module_name(package: str, folder: Path, path: Path) -> str:
    parts = [package, *path.relative_to(folder).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(package, folder, path): path
        for package, folder in PACKAGES.items()
        for path in sorted(folder.rglob("*.py"))  # rglob does not follow the symlink
    }


def is_type_checking_block(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` -- imports there never run, so they make no cycle."""
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_modules(tree: ast.AST, importer: str, modules: set[str]) -> set[str]:
    """The project modules the import statements of ``tree`` load: ``from a import b`` loads
    ``a.b`` when that is a module, else ``a`` (b is a name defined in a)."""
    found = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if is_type_checking_block(node):
            stack.extend(node.orelse)  # type: ignore[attr-defined]
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{importer}: use absolute imports (the walk reads them)"
            base = node.module or ""
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        stack.extend(ast.iter_child_nodes(node))
    return {name for name in found if name in modules and name != importer}


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    modules = project_modules()
    return {
        name: imported_modules(ast.parse(path.read_text()), name, set(modules))
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None. Iterative depth-first search."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once explored
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        state[start] = "open"
        pending = [iter(sorted(graph[start]))]
        while pending:
            for nxt in pending[-1]:
                if state.get(nxt) == "open":
                    return [*path[path.index(nxt) :], nxt]
                if nxt not in state:
                    state[nxt] = "open"
                    path.append(nxt)
                    pending.append(iter(sorted(graph.get(nxt, ()))))
                    break
            else:
                state[path.pop()] = "done"
                pending.pop()
    return None


def test_the_walk_sees_imports_at_the_top_and_inside_functions():
    graph = import_graph()
    assert "autograd_lite.checks" in graph["autograd_lite.engine"]  # top of the file
    assert "autograd_lite.visualize" in graph["autograd_lite.cli.demo"]  # inside a function
    assert "autograd_lite.visualize.style" in graph["autograd_lite.visualize.graph"]
    assert "autograd_lite" in graph["autograd_lite.visualize.graph"]


def test_find_cycle_finds_one_and_only_one_that_is_there():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None  # a diamond


def test_no_module_imports_itself_through_others():
    assert find_cycle(import_graph()) is None


def test_the_engine_core_imports_only_the_standard_library_the_checks_and_the_modes():
    graph = import_graph()
    assert graph["autograd_lite.engine"] == {
        "autograd_lite.checks", "autograd_lite.modes", "autograd_lite.elementary"
    }  # fmt: skip
    assert graph["autograd_lite.checks"] == set()
    assert graph["autograd_lite.modes"] == set()
    # the functions ops call, for floats, Values and symbols; symbols need nothing else
    assert graph["autograd_lite.elementary"] == {"autograd_lite.checks", "autograd_lite.symbolic"}
    assert graph["autograd_lite.symbolic"] == set()
    for module in ("autograd_lite.debugging", "autograd_lite.gradients"):
        assert "autograd_lite.engine" in graph[module], module
