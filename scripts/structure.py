"""The package's structure as its imports draw it: loops between folders, imports that climb back
up the pipeline order, and the longest chain of module imports.

    python scripts/structure.py [SRC_DIR]    # default: src
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

# The pipeline's order; an import from an earlier folder of a later one climbs back up.
ORDER = ("video", "data", "frames", "descriptions", "model", "train", "evaluate", "figures", "serve", "track", "bench")


def modules(src: Path) -> dict[str, Path]:
    out = {}
    for path in (src / "t2l").rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("t2l"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("t2l")}
    return {m for m in found if m in known}


def folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def main(src: Path) -> dict:
    known = modules(src)
    graph = {m: imports(p, known) - {m} for m, p in known.items()}
    edges = {(folder(a), folder(b)) for a, bs in graph.items() for b in bs if folder(a) and folder(b) and folder(a) != folder(b)}
    loops = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    upward = sorted(f"{a} -> {b}" for a, bs in graph.items() for b in bs
                    if folder(a) in ORDER and folder(b) in ORDER and ORDER.index(folder(b)) > ORDER.index(folder(a)))

    @cache
    def chain(m: str, seen: frozenset = frozenset()) -> tuple[str, ...]:
        best = ()
        for n in graph[m] - seen:
            c = chain(n, seen | {m})
            best = c if len(c) > len(best) else best
        return (m, *best)

    longest = max((chain(m) for m in graph), key=len)
    return {"modules": len(known), "folder_loops": loops, "upward_imports": len(upward), "upward": upward,
            "longest_chain": len(longest), "chain": " -> ".join(longest)}


if __name__ == "__main__":
    result = main(Path(sys.argv[1] if len(sys.argv) > 1 else "src"))
    for key, value in result.items():
        print(f"{key}: {value}")
