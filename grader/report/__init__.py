"""The outputs of a grading run: results.json (Gradescope), report.md, report.html, and the
table printed on the terminal."""

from __future__ import annotations

import os
from pathlib import Path

from ..launch import check_output_folder
from ..results import GradingResult, results_json
from .html import render_html
from .markdown import render_markdown
from .terminal import render_table

__all__ = ["render_table", "write_reports"]


def write_reports(result: GradingResult, out: Path) -> None:
    """results.json, report.md and report.html in `out`. Never through a symbolic link: `out` must
    be a real folder, and each file is written beside its name and renamed onto it, which replaces a
    link planted there (by a leftover process, say) instead of writing to where it points."""
    check_output_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("results.json", results_json(result)), ("report.md", render_markdown(result)),
                       ("report.html", render_html(result))):
        _replace(out / name, text)


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
