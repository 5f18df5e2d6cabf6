"""report.md: scores per part, every failed test with what was expected, what came and a hint."""

from __future__ import annotations

from ..results import GradingResult, TestResult, fence


def _tag(t: TestResult) -> str:
    return "" if t.visibility == "visible" else f" _({t.visibility.replace('_', ' ')})_"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _figures(r: GradingResult) -> list[str]:
    """One row per judged figure (report.html shows the images)."""
    if not r.figures:
        return [f"_No figures were judged: {r.figures_source or 'no figure test was run'}._"]
    out = [f"Read from {r.figures_source}; {sum(f.passed for f in r.figures)} of {len(r.figures)} passed.", "",
           "| Figure | File | Check | Verdict | Measured |", "| --- | --- | --- | --- | --- |"]
    for f in r.figures:
        verdict = "passed" if f.passed else "**failed**"
        out.append(f"| {f.id} | `{f.file}` | {f.check} | {verdict} | {_cell(f.message)} |")
    return out


def render_markdown(r: GradingResult) -> str:
    out = [
        "# Grading report",
        "",
        f"**Score: {r.score:g} / {r.max_score:g}** — submission `{r.submission}` ({r.origin}), "
        f"tests: {r.selection}, device: {r.device}, {r.execution_time_s:.1f} s",
        "",
        r.dialect_line() + ".",
        "",
        "## Scores by part",
        "",
        "| Part | Score | Max | Passed | Time |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for title, score, max_score, tests in r.by_part():
        seconds = sum(t.duration_s for t in tests)
        out.append(f"| {title} | {score:g} | {max_score:g} | {sum(t.passed for t in tests)} / {len(tests)} "
                   f"| {seconds:.1f} s |")
    failed = [t for t in r.tests if not t.passed]
    out += ["", f"## Failed tests ({len(failed)})", ""]
    if not failed:
        out.append("None: every test passed.")
    for group in r.failure_groups():
        t = group[0]
        message, hint = t.shown(r.audience)
        if len(group) == 1:
            out += [f"### {t.number} {t.title} (0 / {t.max_score:g}){_tag(t)}", ""]
        else:  # one box for the tests of a part that failed the same way
            out += [f"### {len(group)} tests of part {t.number.split('.')[0]}, the same failure "
                    f"(0 / {sum(g.max_score for g in group):g})", ""]
            out += [f"- {g.number} {g.title} (0 / {g.max_score:g}){_tag(g)}" for g in group] + [""]
        out.append(fence(message))
        if hint:
            out += ["", f"**Hint:** {hint}"]
        out.append("")
    passed = [t for t in r.tests if t.passed]
    out += ["", f"## Passed tests ({len(passed)})", ""]
    out += [f"- {t.number} {t.title} ({t.score:g} / {t.max_score:g}){_tag(t)}" for t in passed] or ["None."]
    if r.not_applicable:
        out += ["", f"## Not part of this course's assignment ({len(r.not_applicable)})", "",
                f"Tests of the catalog with no counterpart in {r.dialect}: not run, not in the maximum.", ""]
        out += [f"- {n.title} ({n.points:g} points in the contract's rubric)" for n in r.not_applicable]
    out += ["", "## Deliverable figures", "", *_figures(r)]
    out += ["", "## Submission", ""]
    out += [f"- {n}" for n in r.notes] or ["- (nothing to note)"]
    if r.dropped:
        out += ["", f"Notebook statements left out ({len(r.dropped)}): only definitions are graded.", ""]
        out += [f"- {d}" for d in r.dropped]
    out += ["", "## Sandbox", ""]
    out += [f"- {k}: {v}" for k, v in r.sandbox.items()]
    out += [f"- {e}" for e in r.events]
    return "\n".join(out) + "\n"
