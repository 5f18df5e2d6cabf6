"""Unpacking a .zip submission safely: no absolute paths, no `..`, no links, bounded size."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_UNPACKED = 50 << 20
MAX_MEMBERS = 5000
MAX_NAME = 255  # bytes in one file or folder name (the file system's limit)
MAX_PATH = 1024  # bytes in an entry's whole path
SKIP_DIRS = frozenset({"__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git", "node_modules"})  # never read


class Rejected(ValueError):
    """The submission cannot be graded as handed in; the message says why, for the student."""


def _check_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise Rejected(f"the zip contains an absolute path ({name}); zip the folder's contents with relative paths")
    if ".." in path.parts:
        raise Rejected(f"the zip contains a path with '..' ({name})")
    if len(name.encode()) > MAX_PATH or any(len(part.encode()) > MAX_NAME for part in path.parts):
        raise Rejected(f"the zip contains a path too long to unpack ({name[:60]}...)")


def extract_zip(archive: Path, dest: Path) -> None:
    """Extract into dest, or raise Rejected before writing anything unsafe."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Rejected(f"{archive.name} is not a readable zip file ({exc})") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise Rejected(f"the zip has {len(members)} entries (at most {MAX_MEMBERS})")
        declared = 0
        for info in members:
            _check_name(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise Rejected(f"the zip contains a symbolic link ({info.filename}); links are not accepted")
            declared += info.file_size
        if declared > MAX_UNPACKED:
            raise Rejected(f"the zip unpacks to {declared >> 20} MB (at most {MAX_UNPACKED >> 20} MB)")
        written = 0
        for info in members:
            try:
                written = _extract(zf, info, dest, written)
            except Rejected:
                shutil.rmtree(dest, ignore_errors=True)
                raise
            except Exception as exc:  # noqa: BLE001 - a bad CRC, encryption, an unknown method, a file/folder clash...
                shutil.rmtree(dest, ignore_errors=True)
                why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
                raise Rejected(f"the zip's entry {info.filename[:80]} could not be unpacked ({why}); make the zip "
                               "again, without a password, with your system's own zip tool") from None


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, written: int) -> int:
    """Write one entry under dest; returns the bytes written so far in all."""
    target = dest / info.filename
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return written
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(target, "xb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > MAX_UNPACKED:  # the declared sizes lied
                raise Rejected(f"the zip unpacks to more than {MAX_UNPACKED >> 20} MB")
            out.write(chunk)
    return written
