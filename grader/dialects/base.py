"""What every dialect module builds on: the Dialect record, and the names a submission's files define
(read with `ast`, never run), from which a dialect is detected."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CONTRACT = "contract"


@dataclass(frozen=True)
class Dialect:
    name: str
    title: str  # one line for the report: whose API this is
    also: tuple[str, ...] = ()  # the contract's tests that apply unchanged; None-like () for contract = all
    modules: tuple[str, ...] = ()  # the course's module names (file stems), to find its folder in a submission
    adapter: str | None = None  # grader/worker/dialects/<adapter>.py answers the contract's calls
    # what identifies the dialect: given module stem -> the names it defines, why it is this one, or None
    detect: Callable[[dict[str, set[str]]], str | None] | None = None

    def applies(self, test_id: str, declared_for: tuple[str, ...] | None) -> bool:
        """Whether a catalog test is part of this course's assignment."""
        if declared_for is not None:  # a test written for some dialects only
            return self.name in declared_for
        return self.name == CONTRACT or test_id in self.also


def definitions(files: dict[str, bytes]) -> dict[str, set[str]]:
    """Module stem -> the names its top level defines or assigns, and `Class.method` for the methods
    of its classes (a notebook's kept cells count as the module "notebook"). Read with `ast`, never
    run; a file that does not parse defines nothing."""
    found: dict[str, set[str]] = {}
    for rel, content in files.items():
        if not rel.endswith(".py"):
            continue
        stem = rel.rsplit("/", 1)[-1].removesuffix(".py")
        names = found.setdefault("notebook" if stem == "_notebook" else stem, set())  # the file itself is a sign
        for source in _sources(stem, content.decode("utf-8", "replace")):
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            for node in tree.body:
                names |= _defined(node)
    return found


def _sources(stem: str, text: str) -> list[str]:
    """A module's source, or for the grader's generated notebook module the kept cells it holds."""
    if stem != "_notebook":
        return [text]
    try:
        tree = ast.parse(text)
        cells = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == "_CELLS" for t in n.targets))
        return [source for _, source in cells]
    except (StopIteration, SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return []


# Functions only this package's contract has (the CS180 handouts noise, step and interpolate inline): a
# submission defining any of them anywhere is written to the contract, however broken the rest.
CONTRACT_ONLY = frozenset({"add_noise", "q_sample", "p_losses", "p_sample", "fm_interpolate"})


def contract_only(defined: dict[str, set[str]]) -> str | None:
    """The first of the contract's own functions the submission defines at top level, if any."""
    return next((name for stem in sorted(defined) for name in sorted(defined[stem] & CONTRACT_ONLY)), None)


def where(defined: dict[str, set[str]], name: str) -> str | None:
    """The first module (in name order, "notebook" as the notebook) defining `name`."""
    return next((stem for stem in sorted(defined) if name in defined[stem]), None)


def _defined(node: Any) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {node.name}
    if isinstance(node, ast.ClassDef):
        return {node.name} | {f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef)}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    return set()
