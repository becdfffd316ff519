"""No import cycle inside any subpackage of mlpipe.

Every module of every subpackage is parsed with ``ast``, imports inside
functions included (a lazy import hides a cycle from Python, not from the
design), and the imports between modules of the same subpackage form a
graph that must have no cycle.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mlpipe

ROOT = Path(mlpipe.__file__).parent


def _module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree, module, is_package, modules):
    """Absolute names of the modules ``module`` imports, anywhere in it.

    ``from package import name`` depends on the module ``package.name`` when
    there is one (``from mlpipe.drift import _ks``), else on the package's
    ``__init__`` (``from mlpipe.drift import KSDrift``).
    """
    package = module if is_package else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            for alias in node.names:
                sub = f"{stem}.{alias.name}"
                out.add(sub if sub in modules else stem)
    return out


def import_graph(package_dir, root=ROOT):
    """``{module: set of modules of the same subpackage it imports}``;
    ``root`` is the directory of the top package."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        modules[_module_name(path, root)] = path
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = _imported(tree, name, path.name == "__init__.py", modules)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph):
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack = []

    def visit(node):
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour[nxt] == WHITE:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            found = visit(node)
            if found:
                return found
    return None


SUBPACKAGES = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))


def test_subpackages_were_found():
    assert {"drift", "validation", "impute", "fairness", "explain", "automl", "utils"} <= set(
        SUBPACKAGES
    )


def test_find_cycle_finds_one():
    # the detector itself, on a graph with a known cycle (and one without)
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_graph_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "mlpipe" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import _a\n")
    (pkg / "_a.py").write_text("def f():\n    from mlpipe.pkg._b import g\n    return g\n")
    (pkg / "_b.py").write_text("from mlpipe.pkg import _a\n")
    graph = import_graph(pkg, root=tmp_path / "mlpipe")
    assert graph == {
        "mlpipe.pkg": {"mlpipe.pkg._a"},
        "mlpipe.pkg._a": {"mlpipe.pkg._b"},
        "mlpipe.pkg._b": {"mlpipe.pkg._a"},
    }
    assert find_cycle(graph) is not None


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_no_import_cycle_inside_subpackage(subpackage):
    graph = import_graph(ROOT / subpackage)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_import_drift_in_a_new_process():
    result = subprocess.run(
        [sys.executable, "-c", "import mlpipe.drift"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
