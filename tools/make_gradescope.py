"""Build Gradescope's autograder zip (docs/gradescope.md).

    python tools/make_gradescope.py [--out dist/autograder.zip]
        [--dialect auto|contract|adl-ex02|cs180-fa24-ddpm|cs180-flow]

At the top of the zip, as Gradescope requires: setup.sh and run_autograder (gradescope/), then
requirements.txt (the grader's pins from pyproject.toml), grader/ and the assets it reads. The
solution is not shipped: the grader computes every answer itself. The zip is deterministic:
sorted entries, a fixed timestamp, Unix modes kept (the two scripts stay executable). With --dialect,
the zip holds a file DIALECT naming the course dialect every submission is graded as (run_autograder
reads it; without it the grader detects each submission's dialect).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.release_zip import write_zip  # noqa: E402

SCRIPTS = ("setup.sh", "run_autograder")
ASSETS = ("classifier.json", "classifier.pt", "deliverables.json")
# Pins of pyproject.toml the grader does not need (notebook execution, linting, browser tests, the
# parallel test runner).
DEV_ONLY = {"nbconvert", "nbclient", "ipykernel", "ruff", "selenium", "pytest-xdist", "execnet"}


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The grader's pinned dependencies, one a line."""
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    keep = [d for d in deps if d.split("==")[0].split("[")[0].strip().lower() not in DEV_ONLY]
    return "\n".join(keep) + "\n"


def entries(root: Path = ROOT, dialect: str = "auto") -> dict[str, Path | bytes]:
    """Name in the zip -> the file to copy, or the content itself."""
    files: dict[str, Path | bytes] = {name: root / "gradescope" / name for name in SCRIPTS}
    if dialect != "auto":
        files["DIALECT"] = f"{dialect}\n".encode()
    files["requirements.txt"] = requirements(root / "pyproject.toml").encode()
    for path in (root / "grader").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(root).as_posix()] = path
    for name in ASSETS:
        files[f"assets/{name}"] = root / "assets" / name
    return files


def build(out: Path, root: Path = ROOT, dialect: str = "auto") -> Path:
    """Write the zip to `out` and return it."""
    from grader.dialects import get

    if dialect != "auto":
        get(dialect)  # a dialect the grader does not grade is an error now, not at every submission
    files = {name: src if isinstance(src, bytes) else src.read_bytes()
             for name, src in entries(root, dialect).items()}
    return write_zip(out, files, executable=frozenset(SCRIPTS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "dist" / "autograder.zip")
    ap.add_argument("--dialect", default="auto", help="grade every submission as this course dialect "
                    "(docs/dialects.md); auto: detect each submission's")
    args = ap.parse_args()
    out = build(args.out, dialect=args.dialect)
    with zipfile.ZipFile(out) as zf:
        print(f"wrote {out} ({len(zf.namelist())} files, {out.stat().st_size >> 10} KiB)")


if __name__ == "__main__":
    main()
