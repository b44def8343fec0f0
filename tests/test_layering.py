"""The import structure: data flows one way (DESIGN.md §1), with no import cycles.

Reads every ``import`` of the package's sources, at module level and inside functions, and
checks each against the layer it may use.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
FOLDERS = {"spikeshift": "spikeshift", "gen": "spikeshift.gen", "hdl": "spikeshift.hdl",
           "sim": "spikeshift.sim", "boards": "spikeshift.boards"}

#: Part of the package -> the parts it may import (besides itself).
ALLOWED = {
    "spikeshift.gen.ir": set(),
    "spikeshift.hdl": {"spikeshift.gen.ir"},
    "spikeshift.sim": {"spikeshift.gen.ir"},
    "spikeshift.gen.frontends": {"spikeshift.gen.ir"},
    "spikeshift.gen.flow": {"spikeshift.gen.ir", "spikeshift.gen.frontends", "spikeshift.hdl",
                            "spikeshift.sim"},
    "spikeshift.boards": {"spikeshift.gen.ir", "spikeshift.gen.flow", "spikeshift.hdl",
                          "spikeshift.sim"},
    "spikeshift.gen.explore": {"spikeshift.gen.ir", "spikeshift.gen.flow",
                               "spikeshift.gen.frontends", "spikeshift.hdl", "spikeshift.sim",
                               "spikeshift.boards"},
    "spikeshift.gen.cli": {"spikeshift.gen.ir", "spikeshift.gen.flow", "spikeshift.gen.frontends",
                           "spikeshift.hdl", "spikeshift.sim", "spikeshift.boards",
                           "spikeshift.gen.explore"},
    "spikeshift": {"spikeshift.gen.ir", "spikeshift.gen.flow", "spikeshift.sim",
                   "spikeshift.gen.cli"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            found[".".join((package, *parts))] = path
    return found


def _imports(name: str, path: Path, modules) -> set[str]:
    """The spikeshift modules `name` imports (a package's own `__init__` counts as itself)."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                     for alias in node.names]
        elif isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        else:
            continue
        out |= {module for module in found if module.split(".")[0] == "spikeshift"}
    out.discard(name)
    return out


def _part(module: str) -> str:
    return max((part for part in ALLOWED if module == part or module.startswith(part + ".")),
               key=len)


def test_every_part_imports_only_the_layers_below_it():
    modules = _modules()
    violations = []
    for name, path in sorted(modules.items()):
        part = _part(name)
        for target in _imports(name, path, modules):
            other = _part(target)
            if other != part and other not in ALLOWED[part]:
                violations.append(f"{name} imports {target} ({part} may not use {other})")
    assert violations == []


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _imports(name, path, modules) & set(modules)
             for name, path in modules.items()}
    # a package's __init__ and its submodules are one node each; cycles are found by DFS
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_layering_check_sees_a_violation():
    modules = _modules()
    imports = _imports("spikeshift.sim.rtl_run", modules["spikeshift.sim.rtl_run"], modules)
    assert "spikeshift.gen.ir.link" in imports
    assert _part("spikeshift.gen.flow.verify") == "spikeshift.gen.flow"
    assert "spikeshift.gen.flow" not in ALLOWED[_part("spikeshift.sim.rtl_run")]
