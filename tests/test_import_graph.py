"""The package's modules import one another without a cycle, counting imports inside functions: a cycle hidden
in a function-level import still ties the two modules into one, and breaks whoever imports them in a new order."""

from __future__ import annotations

import ast
from pathlib import Path

import feedback

PACKAGE = Path(feedback.__file__).resolve().parent


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module under the package folder ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports anywhere in its body, functions included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # "from . import units" imports the module units; "from .units import UnitSpace" the module
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            if target in modules and target != name:
                found.add(target)
    return found


def import_cycles(root: Path) -> list[list[str]]:
    """Each cycle of imports among the package's modules, as the path that closes it (``[a, b, a]``); one per
    group of modules that import one another. The package's ``__init__`` is left out: it re-exports what the
    modules define, and a module that imports the package means one of those names."""
    modules = module_names(root)
    top = root.name
    graph = {
        name: sorted(imported_modules(name, path, modules) - {top}) for name, path in modules.items() if name != top
    }
    cycles, done = [], set()
    for start in graph:
        if start in done:
            continue
        # depth-first, keeping the path: the first edge back into it closes a cycle
        path, on_path, stack = [], set(), [(start, iter(graph[start]))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, edges = stack[-1]
            step = next(edges, None)
            if step is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif step in on_path:
                cycle = path[path.index(step) :] + [step]
                if not any(set(cycle) <= set(seen) for seen in cycles):
                    cycles.append(cycle)
            elif step not in done:
                stack.append((step, iter(graph[step])))
                path.append(step)
                on_path.add(step)
    return cycles


def test_the_package_has_no_import_cycle():
    assert import_cycles(PACKAGE) == [], "import cycles: " + "; ".join(" -> ".join(c) for c in import_cycles(PACKAGE))


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from .a import A\n")
    (package / "a.py").write_text("from .sub.b import helper\n\nclass A:\n    pass\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("def helper():\n    from ..c import C\n    return C\n")
    (package / "c.py").write_text("def make():\n    from . import a\n    return a.A()\n\nclass C:\n    pass\n")
    (package / "d.py").write_text("import pkg.c\nfrom pkg import a\n")  # imports, but nothing imports d
    assert import_cycles(package) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]
