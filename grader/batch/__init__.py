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

The package, one concern a module: discover.py (the uploads of a class folder), version.py (what a rerun may
skip), pool.py (the graders, at most --jobs at once, each killed at --limit), index.py (grades.csv and
index.html); __main__.py is the command.
"""

from .discover import Upload, find_submissions
from .index import Row, collect, render_index, write_csv
from .pool import grade_one, run_batch, total_time
from .version import fingerprint, grader_version, is_current

__all__ = ["Row", "Upload", "collect", "find_submissions", "fingerprint", "grade_one", "grader_version",
           "is_current", "render_index", "run_batch", "total_time", "write_csv"]
