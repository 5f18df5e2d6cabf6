"""The outputs of a grading run: results.json (Gradescope), report.md, report.html, and the
table printed on the terminal."""

from __future__ import annotations

from pathlib import Path

from ..results import GradingResult, write_results_json
from .html import render_html
from .markdown import render_markdown
from .terminal import render_table

__all__ = ["render_table", "write_reports"]


def write_reports(result: GradingResult, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_results_json(result, out / "results.json")
    (out / "report.md").write_text(render_markdown(result))
    (out / "report.html").write_text(render_html(result))
