"""Build Gradescope's autograder zip (docs/gradescope.md).

    python tools/make_gradescope.py [--out dist/autograder.zip]

At the top of the zip, as Gradescope requires: setup.sh and run_autograder (gradescope/), then
requirements.txt (the grader's pins from pyproject.toml), grader/ and the assets it reads. The
solution is not shipped: the grader computes every answer itself. The zip is deterministic:
sorted entries, a fixed timestamp, Unix modes kept (the two scripts stay executable).
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


def entries(root: Path = ROOT) -> dict[str, Path | bytes]:
    """Name in the zip -> the file to copy, or the content itself."""
    files: dict[str, Path | bytes] = {name: root / "gradescope" / name for name in SCRIPTS}
    files["requirements.txt"] = requirements(root / "pyproject.toml").encode()
    for path in (root / "grader").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(root).as_posix()] = path
    for name in ASSETS:
        files[f"assets/{name}"] = root / "assets" / name
    return files


def build(out: Path, root: Path = ROOT) -> Path:
    """Write the zip to `out` and return it."""
    files = {name: src if isinstance(src, bytes) else src.read_bytes() for name, src in entries(root).items()}
    return write_zip(out, files, executable=frozenset(SCRIPTS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "dist" / "autograder.zip")
    out = build(ap.parse_args().out)
    with zipfile.ZipFile(out) as zf:
        print(f"wrote {out} ({len(zf.namelist())} files, {out.stat().st_size >> 10} KiB)")


if __name__ == "__main__":
    main()
