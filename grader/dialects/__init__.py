"""Course dialects: whose API a submission is written to.

A dialect is one course's handout API (DIALECTS.md in the spec). The grader's probes are written
once, to this package's contract; a dialect says which of them apply to that course's assignment
(the others are *not part of it*: left out of the maximum, never scored 0), which tests of its own
it adds (declared in the catalog with `@graded(..., dialects=("adl-ex02",))`), and which worker
adapter (grader/worker/dialects/) answers the contract's calls through the course's own functions.

    dialect = choose(submission.files, override=None)   # -> Choice(dialect, why)

Torch-free: the command line chooses the dialect before anything heavy loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from .adl_ex02 import ADL_EX02
from .base import CONTRACT, Dialect, definitions, where
from .cs180_fa24 import CS180_FA24
from .cs180_flow import CS180_FLOW

__all__ = ["CHOICES", "CONTRACT", "DIALECTS", "PLANNED", "Choice", "Dialect", "DialectError", "choose", "get", "where"]

# Named in the spec, not graded yet: asking for one is a clear error, never a silent contract grade.
PLANNED = ("figures-only",)


CONTRACT_DIALECT = Dialect(CONTRACT, "this package's contract (its skeleton's unet.py, schedules.py, diffusion.py, "
                           "flow.py)", modules=("unet", "schedules", "diffusion", "flow"))
DIALECTS: dict[str, Dialect] = {d.name: d for d in (CONTRACT_DIALECT, ADL_EX02, CS180_FA24, CS180_FLOW)}
CHOICES = ("auto", *DIALECTS)


class DialectError(ValueError):
    """A dialect the TA asked for that the grader does not know (a set-up error, not the student's)."""


@dataclass(frozen=True)
class Choice:
    dialect: Dialect
    why: str  # "auto-detected: ..." or "chosen with --dialect"


def get(name: str) -> Dialect:
    if name in DIALECTS:
        return DIALECTS[name]
    if name in PLANNED:
        raise DialectError(f"--dialect {name} is not graded yet (graded: {', '.join(DIALECTS)}); "
                           "grade with --dialect contract, or see docs/dialects.md")
    raise DialectError(f"unknown dialect {name!r}: use auto or one of {', '.join(DIALECTS)}")


def choose(files: dict[str, bytes], override: str | None = None) -> Choice:
    """The dialect for a submission's Python files: the TA's, or the one whose names it defines."""
    if override and override != "auto":
        return Choice(get(override), f"chosen with --dialect {override}")
    defined = definitions(files)
    best, why = CONTRACT_DIALECT, ""
    for dialect in DIALECTS.values():
        found = dialect.detect(defined) if dialect.detect else None
        if found:
            best, why = dialect, found
            break
    if best.name == CONTRACT:
        contract = [m for m in CONTRACT_DIALECT.modules if m in defined]
        why = (f"it has {', '.join(m + '.py' for m in contract)}" if contract
               else "no course's own names were found, so the contract's")
    return Choice(best, f"auto-detected: {why}; --dialect overrides it")
