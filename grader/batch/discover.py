"""The uploads of a class folder: every folder, .zip and .ipynb directly in it, each with an id that
is safe as a folder name and unique in the batch."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KINDS = (".zip", ".ipynb")
RESERVED = {"grades.csv", "index.html"}  # the batch's own files in OUT


@dataclass(frozen=True)
class Upload:
    """One student's upload in the class folder (grader.submission.Submission is what the grader loads from it)."""

    id: str  # filesystem-safe and unique in the batch: the name of its folder in OUT
    path: Path


def find_submissions(folder: Path, out: Path | None = None) -> tuple[list[Upload], list[str]]:
    """The submissions in `folder` (sorted by name, so ids are stable) and a note per entry ignored."""
    subs: list[Upload] = []
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
        subs.append(Upload(sid, path))
    return subs, notes


