"""Grade a whole class: python -m grader.batch SUBMISSIONS --out DIR [--jobs N] [--tests ...] [--device ...]
[--timeout S] [--limit S] [--force]

Every folder, .zip and .ipynb directly in SUBMISSIONS is one submission, graded by `python -m grader`
in its own subprocess (a crash or a hang of the grader on one submission cannot stop the others),
at most --jobs at once. Writes, in OUT:

- <id>/: the grader's results.json, report.md, report.html; grader.log (its output); batch.json
  (status, reason, seconds, the grader version and the submission's fingerprint);
- grades.csv: one row per submission (status, score, max_score, one column per test, reason);
- index.html: the class table (sortable, self-contained) linking to each report.

A rerun skips every submission whose results.json exists and whose batch.json has the same grader
version (a hash of the grader's code, rubric, assets and the options) and the same fingerprint;
--force regrades all. Exit status 0 whenever the batch completed, whatever the grades.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from tqdm import tqdm

from .paths import ROOT
from .report.html import CSS
from .rubric import Rubric, load_rubric

KINDS = (".zip", ".ipynb")
RESERVED = {"grades.csv", "index.html"}  # the batch's own files in OUT
RUNNING: set[subprocess.Popen] = set()  # the graders running now: Ctrl-C kills them (their own sessions miss it)


@dataclass(frozen=True)
class Submission:
    id: str  # filesystem-safe and unique in the batch: the name of its folder in OUT
    path: Path


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


def find_submissions(folder: Path, out: Path | None = None) -> tuple[list[Submission], list[str]]:
    """The submissions in `folder` (sorted by name, so ids are stable) and a note per entry ignored."""
    subs: list[Submission] = []
    notes: list[str] = []
    taken: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name == "__MACOSX" or (out is not None and path.resolve() == out):
            continue  # hidden files, archive debris, our own output folder
        if not (path.is_dir() or path.suffix.lower() in KINDS):
            notes.append(f"ignored {path.name}: not a folder, .zip or .ipynb")
            continue
        stem = path.name if path.is_dir() else path.stem
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-") or "submission"
        sid, n = base, 1
        while sid.lower() in taken or sid.lower() in RESERVED:  # case-insensitive: macOS and Windows file systems
            n += 1
            sid = f"{base}-{n}"
        taken.add(sid.lower())
        subs.append(Submission(sid, path))
    return subs, notes


def _hash_files(files: Iterable[Path], base: Path, digest: hashlib._Hash) -> None:
    for f in sorted(files):
        if f.is_file() and not f.is_symlink() and "__pycache__" not in f.parts:
            digest.update(str(f.relative_to(base)).encode() + b"\0" + f.read_bytes() + b"\0")


def grader_version(tests: str, device: str, timeout: float | None) -> str:
    """A hash of everything that decides a grade: the grader's code, rubric and pytest.ini, the assets
    (classifier, manifest) and the options. Any change makes a rerun regrade everything."""
    digest = hashlib.sha256()
    grader = ROOT / "grader"
    _hash_files([*grader.rglob("*.py"), *grader.rglob("*.toml"), *grader.rglob("*.ini")], ROOT, digest)
    _hash_files((ROOT / "assets").rglob("*"), ROOT, digest)
    digest.update(f"tests={tests} device={device} timeout={timeout}".encode())
    return digest.hexdigest()[:16]


def fingerprint(path: Path) -> str:
    """A hash of the submission's files: a student who resubmits under the same name is regraded."""
    digest = hashlib.sha256()
    _hash_files(path.rglob("*") if path.is_dir() else [path], path if path.is_dir() else path.parent, digest)
    return digest.hexdigest()[:16]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_current(sub: Submission, out: Path, version: str) -> bool:
    meta = _read_json(out / sub.id / "batch.json")
    return (meta is not None and (out / sub.id / "results.json").is_file() and meta.get("version") == version
            and meta.get("fingerprint") == fingerprint(sub.path))


def grade_one(sub: Submission, out: Path, version: str, grader_args: list[str], limit: float) -> dict:
    """Grade one submission in a subprocess, killed (with everything it started) after `limit` seconds."""
    folder = out / sub.id
    if folder.exists():  # no stale results.json may pass for this run's
        for f in ("results.json", "report.md", "report.html", "batch.json"):
            (folder / f).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "grader", str(sub.path.resolve()), "--out", str(folder.resolve()), *grader_args]
    start, reason, fp = time.monotonic(), "", fingerprint(sub.path)  # the files as graded, not as after
    with open(folder / "grader.log", "wb") as log:
        # A session of its own: the kill below reaches the grader and anything in its process group; the
        # grader's sandbox workers also die with it (parent-death signal).
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        RUNNING.add(proc)
        try:
            rc = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            rc = proc.wait()
            reason = f"killed after the batch's limit of {limit:g} s per submission"
        finally:
            RUNNING.discard(proc)
    if not reason and rc != 0:
        last = (folder / "grader.log").read_text(errors="replace").strip().splitlines()[-1:] or [""]
        reason = f"the grader exited with status {rc}: {last[0][:300]}"
    if not reason and _read_json(folder / "results.json") is None:
        reason = "the grader wrote no readable results.json"
    if reason:
        (folder / "results.json").unlink(missing_ok=True)  # an error row is never taken as graded on a rerun
    meta = {"submission": str(sub.path), "status": "error" if reason else "graded", "reason": reason,
            "seconds": round(time.monotonic() - start, 2), "version": version, "fingerprint": fp,
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    (folder / "batch.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def total_time(limit: float) -> float:
    """The grader's --total-time under a batch limit: the limit less a margin for start-up, stopping
    the worker and writing the reports (a quarter of it, at least 10 s, at most 2 minutes: a busy
    machine can take several seconds just to start the grader)."""
    return max(1.0, limit - max(10.0, min(120.0, 0.25 * limit)))


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have just ended
        os.killpg(proc.pid, signal.SIGKILL)


def collect(sub: Submission, out: Path, rubric: Rubric, selection: str) -> Row:
    """The row of one submission, from its results.json (or its batch.json when it failed)."""
    meta = _read_json(out / sub.id / "batch.json") or {}
    results = _read_json(out / sub.id / "results.json")
    selected = [e for e in rubric.entries.values() if e.selected(selection)]
    if results is None:
        reason = meta.get("reason") or "not graded"
        return Row(sub.id, "error", 0.0, sum(e.points for e in selected), reason, meta.get("seconds", 0.0),
                   {e.id: 0.0 for e in selected}, {e.part: 0.0 for e in selected})
    tests = {t["extra_data"]["id"]: float(t["score"]) for t in results["tests"]}
    parts: dict[str, float] = {}
    for test_id, score in tests.items():
        part = rubric.entries[test_id].part if test_id in rubric.entries else "?"
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
"""


def render_index(rows: list[Row], rubric: Rubric, version: str, selection: str) -> str:
    parts = [k for k in rubric.parts if any(k in r.parts for r in rows)]
    scores = [r.score for r in rows]
    errors = sum(r.status == "error" for r in rows)
    mean = f"{statistics.mean(scores):.1f}" if scores else "-"
    median = f"{statistics.median(scores):g}" if scores else "-"
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    heads = "".join(f'<th class="num" title="{escape(rubric.parts[k])}">{escape(rubric.parts[k].split(" ")[0])} '
                    f"{escape(k)}</th>" for k in parts)
    body = []
    for r in rows:
        target = f"{r.id}/report.html" if r.status == "graded" else f"{r.id}/grader.log"
        cells = "".join(f'<td class="num">{r.parts[k]:g}</td>' if k in r.parts else '<td data-sort="-1"></td>'
                        for k in parts)
        body.append(f'<tr class="{escape(r.status)}"><td><a href="{escape(target)}">{escape(r.id)}</a></td>'
                    f"<td>{escape(r.status)}</td><td class=\"num total\">{r.score:g}</td>"
                    f'<td class="num">{r.max_score:g}</td>{cells}<td class="num">{r.seconds:.0f}</td>'
                    f"<td>{escape(r.reason)}</td></tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class grades</title><style>{CSS}{INDEX_CSS}</style></head>
<body>
<h1>Class grades</h1>
<p class="meta" id="summary">{len(rows)} submissions · mean {mean} · median {median} (errors count 0) ·
{errors} errors · tests: {escape(selection)} · grader version <code>{escape(version)}</code> · {escape(date)}</p>
<p class="meta">Click a column's header to sort by it. Each name links to its report; an error to the grader's
log. Every score is in <a href="grades.csv">grades.csv</a>.</p>
<table id="grades"><thead><tr><th>Submission</th><th>Status</th><th class="num">Score</th><th class="num">Max</th>
{heads}<th class="num">Seconds</th><th>Reason</th></tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
<script>{SORT_JS}</script>
</body></html>
"""


def run_batch(folder: Path, out: Path, jobs: int, grader_args: list[str], selection: str, version: str,
              limit: float, force: bool = False) -> list[Row]:
    """Grade what is not graded yet, then write grades.csv and index.html over every submission."""
    out.mkdir(parents=True, exist_ok=True)
    subs, notes = find_submissions(folder, out.resolve())
    for note in notes:
        print(note, file=sys.stderr)
    todo = [s for s in subs if force or not is_current(s, out, version)]
    print(f"{len(subs)} submissions, {len(subs) - len(todo)} skipped (already graded with grader version "
          f"{version}), {len(todo)} to grade with {jobs} jobs", file=sys.stderr)
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        with tqdm(total=len(todo), file=sys.stderr, unit="sub") as bar:
            futures = {pool.submit(grade_one, s, out, version, grader_args, limit): s for s in todo}
            for fut in as_completed(futures):
                try:
                    meta = fut.result()
                except Exception as exc:  # e.g. a disk error on one folder: that row is an error, the batch goes on
                    meta = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
                    (out / futures[fut].id).mkdir(parents=True, exist_ok=True)
                    (out / futures[fut].id / "batch.json").write_text(json.dumps(meta) + "\n")
                if meta["status"] == "error":
                    bar.write(f"{futures[fut].id}: {meta['reason']}", file=sys.stderr)
                bar.update()
    except KeyboardInterrupt:  # stop now: start nothing more, kill what runs; a rerun resumes from here
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(RUNNING):
            _kill(proc)
        raise
    pool.shutdown()
    rubric = load_rubric()
    rows = [collect(s, out, rubric, selection) for s in subs]
    write_csv(rows, rubric, out / "grades.csv")
    (out / "index.html").write_text(render_index(rows, rubric, version, selection))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grader.batch", description="Grade every submission of a folder.")
    ap.add_argument("submissions", type=Path, help="a folder holding one folder, .zip or .ipynb per submission")
    ap.add_argument("--out", type=Path, default=Path("build/class"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    ap.add_argument("--tests", default="all", help="as for python -m grader")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per request to the student's code")
    ap.add_argument("--limit", type=float, default=900.0,
                    help="seconds per submission: its grade's total time is this less a margin, "
                    "and a grader still running at the limit is killed")
    ap.add_argument("--force", action="store_true", help="regrade submissions already graded")
    args = ap.parse_args(argv)
    if not args.submissions.is_dir():
        print(f"grader.batch: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    grader_args = ["--tests", args.tests, "--device", args.device]
    grader_args += ["--timeout", f"{args.timeout:g}"] if args.timeout is not None else []
    # The grader's own total-time budget ends first, so that a slow submission gets a complete
    # results.json with its unfinished tests failed; the kill at --limit is only a backstop.
    grader_args += ["--total-time", f"{total_time(args.limit):g}"]
    version = grader_version(args.tests, args.device, args.timeout)
    start = time.monotonic()
    try:
        rows = run_batch(args.submissions, args.out, max(1, args.jobs), grader_args, args.tests, version, args.limit,
                         args.force)
    except KeyboardInterrupt:
        print("grader.batch: interrupted; run the same command again to grade the rest", file=sys.stderr)
        return 130
    errors = sum(r.status == "error" for r in rows)
    print(f"{len(rows)} submissions ({errors} errors) in {time.monotonic() - start:.0f} s: "
          f"{args.out / 'grades.csv'}, {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
