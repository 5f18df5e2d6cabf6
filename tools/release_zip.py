"""One deterministic zip writer for the releases (student.zip, autograder.zip): sorted entries,
a fixed timestamp and Unix modes, so two builds from the same commit are byte for byte equal."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold


def write_zip(out: Path, files: dict[str, bytes], executable: frozenset[str] = frozenset()) -> Path:
    """Write `files` (name in the zip -> content) to `out`; the names in `executable` get mode 755."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, EPOCH)
            info.create_system = 3  # Unix: unzip restores the modes below
            info.external_attr = (stat.S_IFREG | (0o755 if name in executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out
