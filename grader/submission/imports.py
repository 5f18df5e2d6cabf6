"""The installed modules a submission imports, found with `ast` (nothing is run).

The worker imports them before it drops its privileges, while every file is readable: a head
start, and a safety net for installed packages the unprivileged user could not read (the
interpreter's own folders stay importable through descriptors, see worker/confine.py).
"""

from __future__ import annotations

import ast

from .definitions import parse

# Imported by every worker: what the assignment's code and torch's lazy imports commonly need (~0.1 s).
BASE = [
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.optim", "torch.optim.lr_scheduler",
    "torch.utils.data", "torch.distributions", "torch.autograd", "torch.linalg", "torch.fft",
    "numpy", "numpy.random", "numpy.linalg", "math", "cmath", "random", "secrets", "statistics", "fractions",
    "decimal", "typing", "collections", "collections.abc", "contextlib", "dataclasses", "functools", "itertools",
    "operator", "copy", "abc", "enum", "numbers", "types", "inspect", "warnings", "traceback", "linecache",
    "importlib", "__future__", "io", "os", "sys", "re", "string", "textwrap", "json", "csv", "pickle", "struct",
    "time", "datetime", "pathlib", "tempfile", "shutil", "glob", "fnmatch", "hashlib", "base64", "zlib", "gzip",
    "zipfile", "heapq", "bisect", "weakref", "threading", "queue", "logging", "pprint", "difflib", "uuid",
    "platform", "argparse", "tqdm", "tqdm.auto",
]  # fmt: skip
MAX_NAMES = 300


def imported_modules(sources: list[str], local: set[str]) -> list[str]:
    """Dotted names imported anywhere in `sources` (inside functions too), except the
    submission's own modules (`local`: top-level names), which must never run before the drop."""
    names: list[str] = []
    for source in sources:
        try:
            tree = parse(source)
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
