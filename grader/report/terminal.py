"""The compact table printed at the end of a run."""

from __future__ import annotations

from pathlib import Path

from ..results import GradingResult

WIDTH = 60
MAX_FAILED = 12


def render_table(r: GradingResult, out: Path | None = None) -> str:
    lines = [f"Graded {r.submission} ({r.origin}, tests: {r.selection}, {r.device}) in {r.execution_time_s:.1f} s",
             r.dialect_line()]
    for title, score, max_score, _ in r.by_part():
        lines.append(f"  {title[:WIDTH - 2]:<{WIDTH}} {score:>5g} / {max_score:g}")
    lines.append("  " + "-" * (WIDTH + 10))
    lines.append(f"  {'Total':<{WIDTH}} {r.score:>5g} / {r.max_score:g}")
    failed = [t for t in r.tests if not t.passed]
    if failed:
        lines.append(f"Failed ({len(failed)}):")
        for t in failed[:MAX_FAILED]:
            message, _ = t.shown(r.audience)
            first = (message.splitlines() or ["failed"])[0]
            if t.mistake and message == (t.message.strip() or "Failed."):  # the named mistake says more
                first = "matches: " + t.mistake
            lines.append(f"  {t.number:<5} {t.title[:40]:<40}  {first[:90]}")
        if len(failed) > MAX_FAILED:
            lines.append(f"  ... and {len(failed) - MAX_FAILED} more: see the report")
    if any(t.part == "figures" for t in r.tests):
        lines.append(f"Figures: {r.figures_source}")
    for note in r.notes:
        if note.startswith("not graded"):
            lines.append(note)
    if out is not None:
        lines.append(f"Reports: {out / 'report.md'}, {out / 'report.html'}, {out / 'results.json'}")
    return "\n".join(lines)
