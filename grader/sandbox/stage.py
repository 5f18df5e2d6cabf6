"""The sandbox folder of one grading run: the worker's code, the student's files, a home.

    <root>/lib/grader_worker/   a copy of grader/worker (the worker needs nothing else of the grader)
    <root>/src/submission/      the student's modules, as a package
    <root>/home/                the worker's working directory, HOME and TMPDIR
    <root>/worker-N.log         what reached the worker's real stdout/stderr (C-level output)

Everything but home/ is owned by the grader's user and read-only to the worker; when the
worker drops to an unprivileged user, home/ is given to that user. The folder itself is closed
to everyone else: the worker sees lib/, src/ and home/ through a root of its own, and no
other grading sees them at all.

    <root>/root/                empty: the worker's own root is built on it
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..paths import WORKER

WORKER_PACKAGE = "grader_worker"
PACKAGE = "submission"


def grading_identity() -> tuple[int, int]:
    """(uid, gid) that student code runs as when the grader is root: one of its own for each
    grading (derived from the grader's pid, unique among running graders), so that two gradings
    of a parallel batch share no user: not its files, nor its process limit. No account needs
    to exist for it."""
    ident = FIRST_ID + os.getpid()
    return ident, ident


FIRST_ID = 1 << 20  # above the ids of real accounts (and of `nobody`)


@dataclass
class Stage:
    root: Path
    origin: str  # "modules" or "notebook"
    adapter: str | None = None  # the course dialect's worker adapter (grader/worker/dialects/), if any
    aliases: dict[str, str] | None = None  # the TA's --map: contract name -> the submission's name for it

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def source_dir(self) -> Path:
        return self.root / "src" / PACKAGE

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def scratch(self) -> Path:
        """An empty folder on which the worker builds its own root (worker/confine.py)."""
        return self.root / "root"

    @property
    def boot(self) -> Path:
        return self.lib / WORKER_PACKAGE / "boot.py"

    @classmethod
    def create(cls, files: dict[str, bytes], origin: str, owner: tuple[int, int] | None,
               adapter: str | None = None, aliases: dict[str, str] | None = None) -> Stage:
        """Write `files` (relative path -> source) as the `submission` package. `owner`: the
        (uid, gid) that gets home/, or None to keep the grader's user."""
        stage = cls(Path(tempfile.mkdtemp(prefix=PREFIX, dir=_traversable_tmp())), origin, adapter, aliases or {})
        (stage.root / OWNER).write_text(_process_id(os.getpid()) or "")
        shutil.copytree(WORKER, stage.lib / WORKER_PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
        for rel, content in files.items():
            path = stage.source_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        init = stage.source_dir / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_bytes(b"")
        stage.home.mkdir()
        stage.scratch.mkdir()
        _readable_by_all(stage.root)
        if owner is not None:
            os.chown(stage.home, *owner)
        os.chmod(stage.home, 0o700)
        os.chmod(stage.root, 0o700)  # the worker reaches lib/, src/ and home/ through its own root only
        return stage

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


PREFIX = "grader-"
OWNER = "grader-process"  # in each stage: the pid and start time of the grader that made it


def _process_id(pid: int) -> str | None:
    """"pid start-time": a process as it is named in no other process's life (a pid can be reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return f"{pid} {stat.rsplit(')', 1)[1].split()[19]}"  # field 22, counted after the command name


def clean_stale() -> list[Path]:
    """Remove the stage folders that a grader killed before it could clean up left behind
    (this user's only; the marker says whose they were). Returns what was removed."""
    removed = []
    for path in Path(_traversable_tmp()).glob(PREFIX + "*"):
        try:
            if path.is_symlink() or path.stat().st_uid != os.geteuid():
                continue
            owner = (path / OWNER).read_text().split()
        except OSError:
            continue  # not a stage (or not ours)
        if len(owner) == 2 and owner[0].isdigit() and _process_id(int(owner[0])) != " ".join(owner):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _traversable_tmp() -> str:
    """The temporary folder, unless one of its parents is closed to other users (a TMPDIR
    under a private home): then /tmp, which the unprivileged worker can reach."""
    tmp = Path(tempfile.gettempdir()).resolve()
    if all(os.stat(p).st_mode & 0o001 for p in [tmp, *tmp.parents]):
        return str(tmp)
    return "/tmp"


def _readable_by_all(root: Path) -> None:
    """Folders 755, files 644: the unprivileged worker reads them but cannot change them."""
    os.chmod(root, 0o755)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
