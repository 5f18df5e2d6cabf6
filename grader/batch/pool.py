"""The graders of a batch: each submission by `python -m grader` in a subprocess of its own (a crash or a
hang of the grader on one submission cannot stop the others), at most --jobs at once."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from ..paths import ROOT
from ..rubric import load_rubric
from .discover import Upload, find_submissions
from .index import Row, collect, render_index, write_csv
from .version import fingerprint, is_current, read_json

RUNNING: set[subprocess.Popen] = set()  # the graders running now: Ctrl-C kills them (their own sessions miss it)


def grade_one(sub: Upload, out: Path, version: str, grader_args: list[str], limit: float) -> dict:
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
    if not reason and read_json(folder / "results.json") is None:
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


def run_batch(folder: Path, out: Path, jobs: int, grader_args: list[str], selection: str, version: str,
              limit: float, force: bool = False, dialect: str = "auto") -> list[Row]:
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
    rubric = load_rubric(dialect="contract" if dialect == "auto" else dialect)  # the table's columns
    rows = [collect(s, out, rubric, selection) for s in subs]
    write_csv(rows, rubric, out / "grades.csv")
    (out / "index.html").write_text(render_index(rows, rubric, version, selection))
    return rows


