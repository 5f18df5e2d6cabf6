"""The installed modules a submission imports, found with `ast` (nothing is run).

The worker imports them before it drops its privileges: an interpreter installed under a
private home (pyenv in /root, say) is not readable by the unprivileged user afterwards.
"""

from __future__ import annotations

import ast

# Imported by every worker: what the assignment's code and torch's lazy imports commonly need.
BASE = [
    "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data", "numpy", "math", "random",
    "typing", "collections", "collections.abc", "contextlib", "dataclasses", "functools", "itertools", "copy",
    "abc", "enum", "pathlib", "warnings", "inspect", "io", "json", "time", "os", "sys", "re", "types",
    "numbers", "operator", "string", "textwrap", "traceback", "linecache", "importlib", "__future__",
    "tqdm", "tqdm.auto",
]  # fmt: skip
MAX_NAMES = 300


def imported_modules(sources: list[str], local: set[str]) -> list[str]:
    """Dotted names imported anywhere in `sources` (inside functions too), except the
    submission's own modules (`local`: top-level names), which must never run before the drop."""
    names: list[str] = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.append(node.module)
                names += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    found = [n for n in names if n.split(".")[0] not in local and n.split(".")[0] != "__main__"]
    return list(dict.fromkeys(BASE + found))[:MAX_NAMES]
