"""The folder tree is the architecture: every import points down, none forms a cycle.

Every import is read with ``ast``: at module level and inside functions (lazy imports),
``from lstmcli.x import y`` and ``from lstmcli import x`` alike.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lstmcli"

# The layers, lowest first. A module may import its own layer and the layers before it.
LAYERS = [
    "core",  # errors, atomic files, paths, threads, metrics: no TensorFlow, no Rich
    "model",  # ModelSpec, the cell table, arithmetic, the shape walk: pure Python
    "backend",  # everything that builds, reads, loads or checks Keras models
    "data",  # archives, downloads, readers, text pipeline, batching, caches
    "rundir",  # the run folder: its file names, how a run is opened
    "embed",  # word vectors: pretraining, reading, aligning
    "train",  # training, checkpoints, evaluation, prediction
    "interpret",  # gates, states, units
    "render",  # the only code that writes Rich, JSON or pictures
    "cli",  # Typer commands
]
TOP_LEVEL = {"__init__": -1, "__main__": len(LAYERS)}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return -1  # the package itself (__version__)
    if parts[1] in TOP_LEVEL:
        return TOP_LEVEL[parts[1]]
    return LAYERS.index(parts[1])


def imports(path: Path) -> set[str]:
    """Every lstmcli module that ``path`` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lstmcli")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "lstmcli":
                found |= {f"lstmcli.{a.name}" for a in node.names if a.name != "__version__"}
                found |= {"lstmcli"} if any(a.name == "__version__" for a in node.names) else set()
            elif node.module.startswith("lstmcli."):
                found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; use absolute lstmcli imports")
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports(path) if m != name} for name, path in modules.items()}


def test_every_subpackage_is_a_declared_layer() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS)
    loose = {p.stem for p in PACKAGE.glob("*.py")}
    assert loose <= set(TOP_LEVEL), f"modules outside the layers: {loose - set(TOP_LEVEL)}"


def test_imports_point_down_only() -> None:
    upward = [
        f"{src} ({LAYERS[layer_of(src)] if 0 <= layer_of(src) < len(LAYERS) else src}) imports "
        f"{dst}"
        for src, targets in graph().items()
        for dst in targets
        if layer_of(dst) > layer_of(src)
    ]
    assert not upward, "imports from a higher layer:\n" + "\n".join(sorted(upward))


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            # A parent package is imported on the way to its submodules; that is no cycle.
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if state.get(nxt) is None and nxt in edges:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "def f():\n    from lstmcli.cli.app import app\n    import lstmcli.core.paths\n"
        "from lstmcli import __version__\nfrom lstmcli.model import spec\n"
    )
    assert imports(src) == {"lstmcli.cli.app", "lstmcli.core.paths", "lstmcli", "lstmcli.model"}
    assert layer_of("lstmcli.cli.app") > layer_of("lstmcli.model.spec") > layer_of("lstmcli")


@pytest.mark.parametrize("limit", [300])
def test_modules_stay_small(limit: int) -> None:
    big = {
        module_name(p): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > limit
    }
    assert not big, f"modules over {limit} lines: {big}"


def test_functions_stay_short() -> None:
    """No function body over 60 lines; a command's Typer signature does not count."""
    long = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    first = node.body[1] if len(node.body) > 1 else first  # skip the docstring
                body = (node.end_lineno or 0) - first.lineno + 1
                if body > 60:
                    long[f"{module_name(path)}.{node.name}"] = body
    assert not long, f"functions with a body over 60 lines: {long}"
