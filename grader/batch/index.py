"""The class's grades from each submission's results.json: grades.csv and index.html."""

from __future__ import annotations

import csv
import datetime
import statistics
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from ..report.html import CSS
from ..rubric import Rubric
from .discover import Upload
from .version import read_json


@dataclass
class Row:
    id: str
    status: str  # graded or error
    score: float
    max_score: float
    reason: str = ""
    seconds: float = 0.0
    tests: dict[str, float] = field(default_factory=dict)  # test id -> score
    parts: dict[str, float] = field(default_factory=dict)  # part key -> score


def collect(sub: Upload, out: Path, rubric: Rubric, selection: str) -> Row:
    """The row of one submission, from its results.json (or its batch.json when it failed)."""
    meta = read_json(out / sub.id / "batch.json") or {}
    results = read_json(out / sub.id / "results.json")
    selected = [e for e in rubric.entries.values() if e.selected(selection)]
    if results is None:
        reason = meta.get("reason") or "not graded"
        return Row(sub.id, "error", 0.0, sum(e.points for e in selected), reason, meta.get("seconds", 0.0),
                   {e.id: 0.0 for e in selected}, {e.part: 0.0 for e in selected})
    tests = {t["extra_data"]["id"]: float(t["score"]) for t in results["tests"]}
    parts: dict[str, float] = {}
    for test_id, score in tests.items():
        known = rubric.entries.get(test_id) or rubric.other_dialects.get(test_id) or rubric.not_applicable.get(test_id)
        part = known.part if known else "?"
        parts[part] = parts.get(part, 0.0) + score
    max_score = sum(float(t["max_score"]) for t in results["tests"])
    return Row(sub.id, "graded", float(results["score"]), max_score, "", meta.get("seconds", 0.0), tests, parts)


def write_csv(rows: list[Row], rubric: Rubric, path: Path) -> None:
    """One column per test, as the results.json files list them (first seen first): a grade made by
    another version of the catalog keeps its own tests."""
    tests = list(dict.fromkeys(t for r in rows for t in r.tests)) or list(rubric.entries)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "status", "score", "max_score", *tests, "reason"])
        for r in rows:
            w.writerow([r.id, r.status, f"{r.score:g}", f"{r.max_score:g}",
                        *(f"{r.tests[t]:g}" if t in r.tests else "" for t in tests), r.reason])


SORT_JS = """
// Click a header to sort by its column (again: reverse); numbers compare as numbers.
const cmp = (a, b) => (a !== "" && b !== "" && !isNaN(a) && !isNaN(b)) ? a - b
  : a.localeCompare(b, undefined, {numeric: true});
document.querySelectorAll("#grades th").forEach((th, i) => th.addEventListener("click", () => {
  const body = document.querySelector("#grades tbody"), dir = th.dataset.dir === "asc" ? -1 : 1;
  document.querySelectorAll("#grades th").forEach(h => delete h.dataset.dir);
  th.dataset.dir = dir === 1 ? "asc" : "desc";
  const key = r => r.cells[i].dataset.sort ?? r.cells[i].textContent.trim();
  [...body.rows].sort((a, b) => dir * cmp(key(a), key(b))).forEach(r => body.appendChild(r));
}));
"""
INDEX_CSS = """
#grades th { cursor: pointer; user-select: none; } #grades th[data-dir=asc]::after { content: " \\25B2"; }
#grades th[data-dir=desc]::after { content: " \\25BC"; } tr.error td { color: #cf222e; }
body { max-width: none; }
#grades { font-size: 14px; } #grades td, #grades th { padding: .25rem .4rem; } #grades th { vertical-align: bottom; }
#grades td:first-child { min-width: 7.5rem; max-width: 14rem; overflow-wrap: break-word; }
#grades td.reason { min-width: 11rem; }
"""


def render_index(rows: list[Row], rubric: Rubric, version: str, selection: str) -> str:
    parts = [k for k in rubric.parts if any(k in r.parts for r in rows)]
    scores = [r.score for r in rows]
    errors = sum(r.status == "error" for r in rows)
    mean = f"{statistics.mean(scores):.1f}" if scores else "-"
    median = f"{statistics.median(scores):g}" if scores else "-"
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    # A part's column is headed by its number and key, broken at the underscores: ten parts fit a laptop's width.
    heads = "".join(f'<th class="num" title="{escape(rubric.parts[k])}">{escape(rubric.parts[k].split(" ")[0])}<br>'
                    f"{'_<wbr>'.join(escape(w) for w in k.split('_'))}</th>" for k in parts)
    body = []
    for r in rows:
        target = f"{r.id}/report.html" if r.status == "graded" else f"{r.id}/grader.log"
        cells = "".join(f'<td class="num">{r.parts[k]:g}</td>' if k in r.parts else '<td data-sort="-1"></td>'
                        for k in parts)
        body.append(f'<tr class="{escape(r.status)}"><td><a href="{escape(target)}">{escape(r.id)}</a></td>'
                    f"<td>{escape(r.status)}</td><td class=\"num total\">{r.score:g}</td>"
                    f'<td class="num">{r.max_score:g}</td>{cells}<td class="num">{r.seconds:.0f}</td>'
                    f'<td class="reason">{escape(r.reason)}</td></tr>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class grades</title><style>{CSS}{INDEX_CSS}</style></head>
<body>
<h1>Class grades</h1>
<p class="meta" id="summary">{len(rows)} submissions · mean {mean} · median {median} (errors count 0) ·
{errors} errors · tests: {escape(selection)} · grader version <code>{escape(version)}</code> · {escape(date)}</p>
<p class="meta">Click a column's header to sort by it. Each name links to its report; an error to the grader's
log. Every score is in <a href="grades.csv">grades.csv</a>.</p>
<table id="grades"><thead><tr><th>Upload</th><th>Status</th><th class="num">Score</th><th class="num">Max</th>
{heads}<th class="num">Seconds</th><th>Reason</th></tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
<script>{SORT_JS}</script>
</body></html>
"""


