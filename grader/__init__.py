"""The autograder: `python -m grader SUBMISSION --out DIR` (see docs/grader.md).

`grade` is imported lazily: the command line spawns the sandboxed worker before the grader
imports torch and pytest (see launch.py).
"""

from __future__ import annotations

from typing import Any

__all__ = ["grade"]


def __getattr__(name: str) -> Any:
    if name == "grade":
        from .run import grade

        return grade
    raise AttributeError(name)
