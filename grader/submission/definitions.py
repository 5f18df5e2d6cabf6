"""Which statements of a notebook are definitions, decided with `ast` (nothing is run).

Kept: imports, `def`, `class`, and assignments of constants (values built from literals,
names and calls into imported libraries, like `DEVICE = torch.device("cpu")`), plus `if` /
`try` blocks made only of those. Dropped: everything else, in particular calls of the
notebook's own functions (training loops, figure code), `for`/`while` loops, plotting,
`if __name__ == "__main__"`, and assignments that use a dropped name.
"""

from __future__ import annotations

import ast
import builtins
import copy
from dataclasses import dataclass, field

SAFE_BUILTINS = {
    "int", "float", "str", "bool", "tuple", "list", "dict", "set", "frozenset", "range", "len", "min", "max",
    "abs", "round", "sorted", "reversed", "enumerate", "zip", "sum", "any", "all", "isinstance", "slice", "bytes",
    "divmod", "pow", "repr", "hasattr", "getattr", "type", "object", "map", "filter",
}  # fmt: skip


def parse(source: str) -> ast.Module:
    """ast.parse for the student's source, in the grader's process: code nested too deeply or too
    large for the parser (RecursionError, MemoryError) is a SyntaxError like any unreadable code,
    never a crash of the grader."""
    try:
        return ast.parse(source)
    except (RecursionError, MemoryError) as exc:
        raise SyntaxError(f"too deeply nested or too large for Python's parser ({type(exc).__name__})") from None


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _target_names(target: ast.expr) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names = [_target_names(t) for t in target.elts]
        return None if any(n is None for n in names) else [x for n in names for x in n]  # type: ignore[union-attr]
    return None  # attributes and subscripts change other objects: not a definition


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"


@dataclass
class DefinitionFilter:
    """Decides statement by statement, in notebook order (later cells see earlier decisions)."""

    library: set[str] = field(default_factory=set)  # names bound by imports
    defined: set[str] = field(default_factory=set)  # functions and classes of the notebook
    dropped: set[str] = field(default_factory=set)  # names whose assignment was dropped

    def _safe_expr(self, node: ast.expr | None) -> bool:
        if node is None:
            return True
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                return False
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id in self.dropped:
                return False
            if isinstance(sub, ast.Call):
                root = _root_name(sub.func)
                is_builtin = root in SAFE_BUILTINS and hasattr(builtins, root or "")
                if root is None or root in self.defined or not (root in self.library or is_builtin):
                    return False
        return True

    def keep(self, node: ast.stmt) -> bool:
        if isinstance(node, ast.Import):
            self.library |= {(a.asname or a.name).split(".")[0] for a in node.names}
            return True
        if isinstance(node, ast.ImportFrom):
            if node.level or node.module == "__future__":
                return False
            self.library |= {a.asname or a.name for a in node.names}
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.defined.add(node.name)
            self.dropped.discard(node.name)
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [_target_names(t) for t in targets]
            flat = [n for group in names if group for n in group]
            if any(group is None for group in names) or not self._safe_expr(node.value):
                self.dropped |= set(flat)
                return False
            self.dropped -= set(flat)
            return True
        if isinstance(node, (ast.If, ast.Try)):
            if isinstance(node, ast.If) and (_is_main_guard(node) or not self._safe_expr(node.test)):
                return False
            trial = copy.deepcopy(self)
            bodies = [node.body, node.orelse] + (
                [node.finalbody] + [h.body for h in node.handlers] if isinstance(node, ast.Try) else []
            )
            if all(trial.keep(s) or _silent(s) for body in bodies for s in body):
                self.library, self.defined, self.dropped = trial.library, trial.defined, trial.dropped
                return True
            return False
        return False


def _silent(node: ast.stmt) -> bool:
    """Statements dropped without mention: `pass`, bare strings (docstrings), and `from
    __future__` imports (every kept cell is compiled with postponed annotations anyway)."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return True
    return isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
