"""What a rerun of the batch may skip: a submission whose results were made by the same grader version
(its code, rubric, assets and options) from the same files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from ..paths import ROOT
from .discover import Upload


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _hash_files(files: Iterable[Path], base: Path, digest: hashlib._Hash) -> None:
    for f in sorted(files):
        if f.is_file() and not f.is_symlink() and "__pycache__" not in f.parts:
            digest.update(str(f.relative_to(base)).encode() + b"\0" + f.read_bytes() + b"\0")


def grader_version(tests: str, device: str, timeout: float | None, dialect: str = "auto",
                   names: tuple[str, ...] = ()) -> str:
    """A hash of everything that decides a grade: the grader's code, rubric and pytest.ini, the assets
    (classifier, manifest) and the options. Any change makes a rerun regrade everything."""
    digest = hashlib.sha256()
    grader = ROOT / "grader"
    _hash_files([*grader.rglob("*.py"), *grader.rglob("*.toml"), *grader.rglob("*.ini")], ROOT, digest)
    _hash_files((ROOT / "assets").rglob("*"), ROOT, digest)
    digest.update(f"tests={tests} device={device} timeout={timeout}".encode())
    if dialect != "auto" or names:  # (a version string of the contract's gradings stays what it was)
        digest.update(f" dialect={dialect} map={','.join(names)}".encode())
    return digest.hexdigest()[:16]


def fingerprint(path: Path) -> str:
    """A hash of the submission's files: a student who resubmits under the same name is regraded."""
    digest = hashlib.sha256()
    _hash_files(path.rglob("*") if path.is_dir() else [path], path if path.is_dir() else path.parent, digest)
    return digest.hexdigest()[:16]


def is_current(sub: Upload, out: Path, version: str) -> bool:
    meta = read_json(out / sub.id / "batch.json")
    return (meta is not None and (out / sub.id / "results.json").is_file() and meta.get("version") == version
            and meta.get("fingerprint") == fingerprint(sub.path))


