"""report.html: the same content as report.md in one self-contained file (inline CSS, figures
embedded as data URIs, no scripts, nothing fetched from elsewhere).

Stable ids and classes for tools and the browser test (tests/test_browser.py): table#scores with one
tr.part per part (td.part-time: its seconds), div.failure#failed-<id> per failed test or per tests of a
part that failed the same way (the others li#failed-<id> inside it; pre.got, p.hint),
figure.figure per deliverable figure (span.verdict), #dropped-cells for a notebook's left-out code."""

from __future__ import annotations

import base64
from html import escape

from ..results import FigureVerdict, GradingResult, TestResult

MAX_INLINE = 4 << 20  # an image larger than this is not embedded (the report stays readable)

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #555; }
.score { font-size: 1.6rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .3rem .6rem; border-bottom: 1px solid #ddd; }
th { text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.full td { color: #1a7f37; } tr.partial td { color: #9a6700; } tr.zero td { color: #cf222e; }
.test { border-left: 4px solid #cf222e; padding: .2rem .8rem; margin: 1rem 0; background: #fff8f8; }
.test h3 { margin: .3rem 0; font-size: 1rem; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
.hint { background: #fff8c5; padding: .4rem .6rem; }
.tag { color: #666; font-size: .85rem; } figure img { max-width: 100%; }
figure.fig { border-left: 4px solid #1a7f37; margin: 1rem 0; padding: .3rem .8rem; }
figure.fig.failed { border-color: #cf222e; background: #fff8f8; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
"""


def _row_class(score: float, max_score: float) -> str:
    return "full" if score == max_score else "zero" if score == 0 else "partial"


def _tag(t: TestResult) -> str:
    return "" if t.visibility == "visible" else f' <span class="tag">({escape(t.visibility.replace("_", " "))})</span>'


def _figure(f: FigureVerdict) -> str:
    if f.image is None:
        img = ""
    elif len(f.image) > MAX_INLINE:
        img = f"<p><i>{escape(f.file)}: {len(f.image) >> 20} MB, too large to embed</i></p>"
    else:
        data = base64.b64encode(f.image).decode()
        img = f'<img alt="{escape(f.file)}" src="data:{f.mime};base64,{data}">'
    verdict = '<span class="ok">passed</span>' if f.passed else '<span class="bad">failed</span>'
    return (f'<figure class="fig figure{"" if f.passed else " failed"}" id="fig-{escape(f.id)}">{img}<figcaption>'
            f"<b>{escape(f.id)}</b> (<code>{escape(f.file)}</code>, part {escape(f.part)}): {escape(f.shows)}<br>"
            f'check <code>{escape(f.check)}</code>: <span class="verdict">{verdict}: {escape(f.message)}</span>'
            "</figcaption></figure>")


def _figures(r: GradingResult) -> str:
    if not r.figures:
        why = r.figures_source or "no figure test was run"
        return f"<p><i>No figures were judged: {escape(why)}.</i></p>"
    passed = sum(f.passed for f in r.figures)
    head = f"<p>Read from {escape(r.figures_source)}: {passed} of {len(r.figures)} figures passed their checks.</p>"
    return head + "".join(map(_figure, r.figures))


def _dropped(r: GradingResult) -> str:
    """A notebook's left-out statements, open: what was not graded must be seen, not hidden."""
    if not r.dropped:
        return ""
    items = "".join(f"<li><code>{escape(d)}</code></li>" for d in r.dropped)
    return (f'<details id="dropped-cells" open><summary>Notebook statements left out ({len(r.dropped)}): '
            f"only definitions are graded</summary><ul>{items}</ul></details>")


def _failure(group: list[TestResult], audience: str) -> str:
    """One box per failed test, or per tests of a part that failed the same way (ids: the first test's)."""
    t = group[0]
    message, hint = t.shown(audience)
    if len(group) == 1:
        head = f"<h3>{escape(t.number)} {escape(t.title)} (0 / {t.max_score:g}){_tag(t)}</h3>"
    else:
        items = "".join(f'<li id="failed-{escape(g.id)}">{escape(g.number)} {escape(g.title)} '
                        f"(0 / {g.max_score:g}){_tag(g)}</li>" for g in group[1:])
        head = (f"<h3>{len(group)} tests of part {escape(t.number.split('.')[0])}, the same failure "
                f"(0 / {sum(g.max_score for g in group):g})</h3><ul><li>{escape(t.number)} {escape(t.title)} "
                f"(0 / {t.max_score:g}){_tag(t)}</li>{items}</ul>")
    return (f'<div class="test failure" id="failed-{escape(t.id)}">{head}'
            f'<pre class="got">{escape(message)}</pre>'
            + (f'<p class="hint"><b>Hint:</b> {escape(hint)}</p>' if hint else "") + "</div>")


def _not_applicable(r: GradingResult) -> str:
    if not r.not_applicable:
        return ""
    items = "".join(f"<li>{escape(n.title)} ({n.points:g} points in the contract's rubric)</li>"
                    for n in r.not_applicable)
    return (f'<details id="not-applicable"><summary>Not part of this course\'s assignment ({len(r.not_applicable)}): '
            f"not run, not in the maximum</summary><ul>{items}</ul></details>")


def render_html(r: GradingResult) -> str:
    parts = "".join(
        f'<tr class="part {_row_class(s, m)}"><td>{escape(title)}</td><td class="num">{s:g}</td>'
        f'<td class="num">{m:g}</td><td class="num">{sum(t.passed for t in tests)} / {len(tests)}</td>'
        f'<td class="num part-time">{sum(t.duration_s for t in tests):.1f} s</td></tr>'
        for title, s, m, tests in r.by_part()
    )
    failed = [t for t in r.tests if not t.passed]
    failed_html = "".join(_failure(g, r.audience) for g in r.failure_groups()) or "<p>None: every test passed.</p>"
    passed = "".join(
        f"<li>{escape(t.number)} {escape(t.title)} ({t.score:g} / {t.max_score:g}){_tag(t)}</li>"
        for t in r.tests
        if t.passed
    )
    figures = _figures(r)
    notes = "".join(f"<li>{escape(n)}</li>" for n in r.notes) or "<li>(nothing to note)</li>"
    dropped = _dropped(r)
    sandbox = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in r.sandbox.items())
    sandbox += "".join(f"<li>{escape(e)}</li>" for e in r.events)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grading report</title><style>{CSS}</style></head>
<body>
<h1>Grading report</h1>
<p class="score" id="total">Score: {r.score:g} / {r.max_score:g}</p>
<p class="meta">Submission <code>{escape(r.submission)}</code> ({escape(r.origin)}) · tests: {escape(r.selection)} ·
device: {escape(r.device)} · {r.execution_time_s:.1f} s</p>
<p class="meta" id="dialect">{escape(r.dialect_line())}.</p>
<h2>Scores by part</h2>
<table id="scores"><tr><th>Part</th><th class="num">Score</th><th class="num">Max</th><th class="num">Passed</th>
<th class="num">Time</th></tr>
{parts}</table>
<h2 id="failed">Failed tests ({len(failed)})</h2>
{failed_html}
<details><summary>Passed tests ({len(r.tests) - len(failed)})</summary><ul>{passed}</ul></details>
{_not_applicable(r)}
<h2 id="figures">Deliverable figures</h2>
{figures}
<h2>Submission</h2>
<ul>{notes}</ul>
{dropped}
<h2>Sandbox</h2>
<ul>{sandbox}</ul>
</body></html>
"""
