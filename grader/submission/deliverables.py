"""The deliverables of a submission: the figures/, losses/ and weights/ folders that `make
deliverables` writes, read as bytes (figures are data, never code: nothing here or later runs
them; a weights file is only ever opened inside the sandbox, by the worker).

They come from the submission itself (a folder or zip holding figures/ beside the modules) or
from a folder or zip given to the grader (--figures). Only .png / .gif files of figures/, .json
files of losses/ and .pt / .json files of weights/ are read, each size-capped; the rest
(checkpoints/, ...) is ignored.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import archive
from .archive import Rejected, extract_zip

FIGURES, LOSSES, WEIGHTS = "figures", "losses", "weights"
SUFFIXES = {FIGURES: (".png", ".gif"), LOSSES: (".json",), WEIGHTS: (".pt", ".json")}
# A quick-profile figure is ~50 kB, a sampling GIF under 1 MB; the handout's widest UNet (D = 128)
# is 16 MB of float16 weights (32 MB saved in float32).
MAX_FILE = {FIGURES: 8 << 20, LOSSES: 8 << 20, WEIGHTS: 40 << 20}
MAX_BYTES = 200 << 20
MAX_FILES = 200
MAX_DEPTH = 4  # how deep in a submission a figures/ folder is looked for
SKIP_DIRS = archive.SKIP_DIRS | {"checkpoints"}  # and the resume state of make deliverables
NONE_FOUND = "no figures/ folder in the submission"
# What to do about it, said to the one who can act: the TA grading, or the student uploading.
WHAT_TO_DO = {"ta": "run make deliverables (or pass --figures DIR)",
              "student": "upload the figures/, losses/ and weights/ folders that make deliverables (or the "
                         "notebook) wrote, beside your code"}


def none_found(audience: str = "ta") -> str:
    """Why every figure test fails when there are no figures, worded for `audience` (ta or student)."""
    return f"{NONE_FOUND}: {WHAT_TO_DO[audience]}"


@dataclass
class Deliverables:
    where: str  # for the report: which folder they came from
    files: dict[str, bytes] = field(default_factory=dict)  # "figures/x.png", "weights/run.pt", ... -> content
    skipped: dict[str, str] = field(default_factory=dict)  # same keys -> why it was not read

    def get(self, key: str) -> bytes | None:
        return self.files.get(key)


def find_figures_dir(root: Path) -> Path | None:
    """The shallowest folder named figures/ under root (root itself when it is one)."""
    if root.name == FIGURES and root.is_dir():
        return root
    found = []
    for dirpath, dirnames, _ in os.walk(root):  # links to folders are listed but not followed
        here = Path(dirpath)
        keep = len(here.relative_to(root).parts) < MAX_DEPTH
        dirnames[:] = sorted(d for d in dirnames if keep and d not in SKIP_DIRS and not d.startswith("."))
        if FIGURES in dirnames and not (here / FIGURES).is_symlink():
            found.append(here / FIGURES)
    return min(found, key=lambda p: (len(p.parts), str(p)), default=None)


def _read_folder(folder: Path, kind: str, out: Deliverables, total: list[int]) -> None:
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in sorted(folder.iterdir()):
        key = f"{kind}/{path.name}"
        if path.suffix.lower() not in SUFFIXES[kind] or path.name.startswith("."):
            continue
        if path.is_symlink() or not path.is_file():
            out.skipped[key] = "a symbolic link or not a regular file"
        elif path.stat().st_size > (cap := MAX_FILE[kind]):
            out.skipped[key] = f"{path.stat().st_size >> 20} MB, more than the {cap >> 20} MB a file may have"
        elif len(out.files) >= MAX_FILES or total[0] + path.stat().st_size > MAX_BYTES:
            out.skipped[key] = f"the deliverables exceed {MAX_FILES} files or {MAX_BYTES >> 20} MB"
        else:
            out.files[key] = path.read_bytes()
            total[0] += len(out.files[key])


def read_deliverables(root: Path, where: str) -> Deliverables | None:
    """figures/ (and its siblings losses/ and weights/) found under root, or None when there is no figures/."""
    figures = find_figures_dir(root)
    if figures is None:
        return None
    out, total = Deliverables(where if figures == root else f"{figures.relative_to(root).as_posix()}/ in {where}"), [0]
    _read_folder(figures, FIGURES, out, total)
    _read_folder(figures.parent / LOSSES, LOSSES, out, total)
    _read_folder(figures.parent / WEIGHTS, WEIGHTS, out, total)
    return out


def load_deliverables(path: Path) -> Deliverables:
    """What --figures names: a folder holding figures/ (or figures/ itself), or a zip of one.
    Raises FileNotFoundError when there is no such path or no figures/ in it, Rejected for a bad zip."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such figures folder: {path}")
    if path.is_dir():
        found = read_deliverables(path, str(path))
    else:
        with tempfile.TemporaryDirectory(prefix="grader-figures-") as tmp:
            extract_zip(path, Path(tmp))
            found = read_deliverables(Path(tmp), str(path))
    if found is None:
        raise FileNotFoundError(f"no figures/ folder in {path}")
    return found


__all__ = ["NONE_FOUND", "none_found", "Deliverables", "Rejected", "load_deliverables", "read_deliverables"]
