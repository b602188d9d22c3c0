"""The structure, as the imports draw it: folders of src/t2l never import each other in a loop,
and every DVC stage depends on all the code its command imports (so a change there re-runs it)."""

import ast
import re
from functools import cache
from pathlib import Path

import yaml
from helpers import REPO

SRC = REPO / "src"
PACKAGE = SRC / "t2l"
# Shared plumbing every stage imports; a change there changes no stage's results.
PLUMBING = {"t2l", "t2l.cli", "t2l.errors", "t2l.fsio", "t2l.params", "t2l.layout", "t2l.distributed", "t2l.profiles",
            "t2l.doctor"}


def module_file(name: str) -> Path | None:
    path = SRC / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_of(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST) -> set[str]:
    """Modules of t2l that ``tree`` imports (``from a.b import c``: a.b.c if a module, else a.b)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "t2l":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if module_file(full) else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "t2l"}
    return out


@cache
def imports_of(module: str) -> frozenset[str]:
    path = module_file(module)
    return frozenset(imported(ast.parse(path.read_text()))) if path else frozenset()


def closure(modules: set[str]) -> set[str]:
    seen, todo = set(), list(modules)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [".".join(parts[:i]) for i in range(2, len(parts))]  # a package's __init__ runs first
        todo += imports_of(m)
    return seen


def folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else None


def test_no_folder_imports_another_that_imports_it_back():
    edges = {}
    for path in PACKAGE.rglob("*.py"):
        src = folder(module_of(path))
        for target in imported(ast.parse(path.read_text())):
            dst = folder(target)
            if src and dst and src != dst:
                edges.setdefault(src, set()).add(dst)

    def reaches(a: str, b: str, seen: set) -> bool:
        return a == b or any(reaches(n, b, seen | {a}) for n in edges.get(a, ()) if n not in seen)

    loops = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if reaches(b, a, set())})
    assert not loops, f"folders importing each other (directly or around a cycle): {loops}"


def command_imports(command: str) -> set[str]:
    """What the CLI command's function imports (its lazy imports and the module's own)."""
    tree = ast.parse((PACKAGE / "cli.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.replace("_", "-") == command:
            top = ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[])
            return imported(node) | imported(top)
    raise AssertionError(f"t2l {command}: no such CLI command")


def stage_code_deps() -> dict[str, tuple[str, list[str]]]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    out = {}
    for name, stage in stages.items():
        body = stage.get("do", stage)
        command = re.match(r"t2l ([a-z-]+)", body["cmd"]).group(1)
        deps = [d for d in body.get("deps", []) if d.startswith("src/")]
        out[name] = (command, deps)
    return out


def is_code(path: Path) -> bool:
    """False for a package's __init__ that holds only its docstring."""
    body = ast.parse(path.read_text()).body
    return not (path.name == "__init__.py" and all(isinstance(n, ast.Expr) for n in body))


def test_every_stage_depends_on_the_code_it_imports():
    missing = {}
    for name, (command, deps) in stage_code_deps().items():
        for module in sorted(closure(command_imports(command)) - PLUMBING):
            path = module_file(module)
            if not is_code(path):
                continue
            rel = path.relative_to(REPO).as_posix()
            if not any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps):
                missing.setdefault(name, []).append(rel)
    assert not missing, f"dvc.yaml code deps miss imported modules: {missing}"
