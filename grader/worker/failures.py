"""How a failure of the student's code is described to the grader: plain strings only."""

from __future__ import annotations

import traceback
from typing import Any

MAX_FRAMES = 8
MAX_TEXT = 2000


class StudentFailure(Exception):
    """A failure already described (a missing name, a failed import, a non-module)."""

    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.info = {"kind": kind, "type": "", "message": message, "traceback": "", **extra}


def _short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 20] + " ... (truncated)"


def _frames(exc: BaseException, roots: tuple[str, ...]) -> str:
    """The traceback restricted to the student's files (and the frame where it surfaced)."""
    if isinstance(exc, SyntaxError):  # where the parser stopped, not the import machinery
        if not exc.text:
            return ""
        caret = " " * max((exc.offset or 1) - 1 - (len(exc.text) - len(exc.text.lstrip())), 0) + "^"
        return f"    {exc.text.strip()}\n    {caret}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
    keep = [f for f in frames if f.filename.startswith(roots)]
    if frames and (not keep or keep[-1] is not frames[-1]):
        keep.append(frames[-1])
    lines = []
    for f in keep[-MAX_FRAMES:]:
        name = f.filename
        for root in roots:
            if name.startswith(root) and not root.startswith("<"):
                name = name[len(root) :].lstrip("/")
        if "site-packages/" in name:
            name = name.split("site-packages/", 1)[1]
        lines.append(f'  File "{name}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {f.line.strip()}")
    return "\n".join(lines)


def describe(exc: BaseException, roots: tuple[str, ...], during: str = "") -> dict[str, Any]:
    """An exception raised by student code, as a dict of strings."""
    if isinstance(exc, StudentFailure):
        return exc.info
    message = str(exc)
    kind = "exception"
    if isinstance(exc, MemoryError) or "can't allocate memory" in message or "out of memory" in message.lower():
        kind = "memory"
    if isinstance(exc, SystemExit):
        message = f"sys.exit({exc.code!r}) was called"
    if isinstance(exc, SyntaxError):
        where = f" ({exc.filename.rsplit('/', 1)[-1] if exc.filename else '?'}, line {exc.lineno})"
        message = f"{exc.msg}{where}"
    return {
        "kind": kind,
        "type": type(exc).__name__,
        "message": _short(message),
        "traceback": _short(_frames(exc, roots)),
        "during": during,
    }
