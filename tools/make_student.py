"""Build the student release: one zip with the starter code, the notebook, the public tests,
the self-check and the handout README, and nothing else.

    python tools/make_student.py [--out dist/student.zip]

The zip holds one folder, diffusion-hw/: hw/ (the skeleton modules as a package),
assignment.ipynb, and what student/ adds (check.py, public_tests/, README.md, Makefile,
requirements.txt); the self-check's tests are written from the catalog's @self_check declarations
(tools/self_check.py) as the zip is built. It is byte-for-byte reproducible: sorted entries, fixed timestamps.
It refuses to build when skeleton/ or the notebook is out of date with solution/.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.rubric import load_rubric  # noqa: E402
from tools import make_notebook, make_skeleton, rubric_docs, self_check  # noqa: E402
from tools.release_zip import write_zip  # noqa: E402

TOP = "diffusion-hw"
PACKAGE = "hw"
STUDENT = ROOT / "student"
STUDENT_FILES = ("check.py", "submit.py", "README.md", "Makefile", "requirements.txt", "public_tests/pytest.ini",
                 "public_tests/conftest.py", "public_tests/kit.py")


class StaleSources(RuntimeError):
    pass


def stale_sources() -> list[str]:
    """Why skeleton/ or notebooks/assignment.ipynb differ from a fresh generation (empty when in sync)."""
    with tempfile.TemporaryDirectory() as tmp:
        make_skeleton.generate(ROOT / "solution", Path(tmp))
        problems = make_skeleton.compare(Path(tmp), ROOT / "skeleton")
    notebook = make_notebook.OUTPUTS["skeleton"]
    if not notebook.exists() or notebook.read_text() != make_notebook.render(ROOT / "skeleton"):
        problems.append(f"stale notebook {notebook.relative_to(ROOT)}")
    return problems


def release_files() -> dict[str, bytes]:
    """Path inside the zip -> content."""
    files: dict[str, bytes] = {}
    for path in sorted((ROOT / "skeleton").glob("*.py")):
        # Students edit these files: drop the generator's "do not edit" header.
        text = path.read_text().removeprefix(make_skeleton.HEADER)
        files[f"{TOP}/{PACKAGE}/{path.name}"] = text.encode()
    files[f"{TOP}/assignment.ipynb"] = make_notebook.OUTPUTS["skeleton"].read_bytes()
    for name in STUDENT_FILES:
        files[f"{TOP}/{name}"] = (STUDENT / name).read_bytes()
    # The self-check's tests and covers.json, written afresh from the catalog's declarations.
    rubric = load_rubric()
    for name, text in self_check.render(rubric).items():
        files[f"{TOP}/public_tests/{name}"] = text.encode()
    files[f"{TOP}/public_tests/covers.json"] = rubric_docs.covers(rubric).encode()
    return files


def build(out: Path, check: bool = True) -> Path:
    """Write the zip to `out`; raises StaleSources when the skeleton or notebook is out of date."""
    if check and (problems := stale_sources()):
        raise StaleSources("skeleton/ or the notebook is out of date; run `make skeleton`:\n" + "\n".join(problems))
    return write_zip(out, release_files())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "dist" / "student.zip")
    args = ap.parse_args(argv)
    try:
        out = build(args.out)
    except StaleSources as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(out) as zf:
        count = len(zf.namelist())
    print(f"wrote {out} ({count} files, {out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
