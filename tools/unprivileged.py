"""Run a command as an ordinary user (`nobody`), from root: the grader's non-root mode in CI.

    python tools/unprivileged.py [--writable FILE ...] -- COMMAND [ARG ...]

`make test` runs as root in CI; most TAs run the grader as themselves, where the worker's
isolation comes from user namespaces instead of root's powers. This runs COMMAND (the sandbox
and hostile tests) as uid/gid 65534 with a private HOME and TMPDIR, DATA_ROOT made absolute, and
no supplementary groups. The interpreter and this checkout must be reachable by that user: a
folder above them that others cannot enter gets o+x (enter, not list), and each one changed is
printed.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534


def _open_the_way(path: Path) -> list[Path]:
    """Give others o+x on every folder from / down to `path` that lacks it; returns those changed."""
    changed = []
    for folder in [*reversed(path.parents), path]:
        mode = folder.stat().st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append(folder)
    return changed


def main(argv: list[str]) -> int:
    writable = []
    while argv[:1] == ["--writable"]:  # a file of the checkout the command writes (made empty, given to nobody)
        writable.append(ROOT / argv[1])
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("unprivileged: not root, so already an ordinary user: running the command as it is", file=sys.stderr)
        return subprocess.call(argv)
    interpreter = Path(os.path.realpath(sys.executable)).parent
    for folder in _open_the_way(interpreter) + _open_the_way(ROOT):
        print(f"unprivileged: o+x on {folder} (so that uid {NOBODY} can reach the interpreter and the checkout)")
    for path in writable:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        os.chown(path, NOBODY, NOBODY)
    home = Path(tempfile.mkdtemp(prefix="unprivileged-"))
    os.chown(home, NOBODY, NOBODY)
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home), "PYTHONDONTWRITEBYTECODE": "1",
           "DATA_ROOT": str(Path(os.environ.get("DATA_ROOT", "./data")).resolve())}
    try:
        return subprocess.call(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
                               env=env, cwd=ROOT)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
