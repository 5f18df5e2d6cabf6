"""From a path to the files of the `submission` package.

- a folder: its Python files (the folder holding the contract modules may be nested);
- a .zip: unpacked safely (archive.py), then as a folder;
- a .ipynb, or a folder / zip holding exactly one notebook and no modules: definitions only
  (notebook.py);
- a folder holding no modules and no notebook but exactly one .zip (Gradescope's submission
  folder after a zip upload it did not unpack): that zip, as above (a zip inside it is not opened).
A submission that cannot be graded is not an error of the grader: it is `rejected`, and every
test then fails with that message.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .archive import SKIP_DIRS, Rejected, extract_zip
from .deliverables import Deliverables, read_deliverables
from .imports import imported_modules
from .notebook import notebook_files, read_notebook

# The contract's modules and their public names (CONTRACT.md, section 1).
CONTRACT_NAMES = {
    "unet": ["Conv", "DownConv", "UpConv", "Flatten", "Unflatten", "ConvBlock", "DownBlock", "UpBlock", "FCBlock",
             "UnconditionalUNet", "TimeConditionalUNet", "ClassConditionalUNet"],
    "schedules": ["linear_beta_schedule", "cosine_beta_schedule", "sigmoid_beta_schedule", "ddpm_schedule"],
    "diffusion": ["add_noise", "q_sample", "p_losses", "p_sample", "ddpm_forward", "ddpm_sample", "DDPM"],
    "flow": ["fm_interpolate", "fm_forward", "fm_sample", "FlowMatching"],
}
CONTRACT_MODULES = tuple(CONTRACT_NAMES)
# A notebook's definitions are also offered as train.py: its stubs (Part 1's losses, the
# training step) are graded in part 9, though the contract leaves training code free.
NOTEBOOK_MODULES = (*CONTRACT_MODULES, "train")
MAX_CODE_BYTES = 50 << 20


@dataclass
class Submission:
    path: Path
    origin: str  # "folder", "zip" or "notebook"
    files: dict[str, bytes] = field(default_factory=dict)  # package-relative path -> content
    imports: list[str] = field(default_factory=list)  # installed modules to import before the drop
    notes: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # notebook statements left out
    rejected: str | None = None
    layout: str = "modules"  # "modules" or "notebook" (a zip or folder may hold a notebook)
    deliverables: Deliverables | None = None  # its figures/ and losses/, when it holds them


def _walk(root: Path, notes: list[str]) -> list[Path]:
    """The regular files below `root`. Symbolic links (to files or folders: a link to someone
    else's notebook or to the reference is not one's own work) and special files (a FIFO would
    block the reader) are left out, each with a note."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                notes.append(f"{(here / name).relative_to(root)} is a symbolic link: skipped")
            elif name not in SKIP_DIRS and not name.startswith("."):
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(f for f in filenames if not f.startswith(".")):
            path = here / name
            if path.is_symlink() or not path.is_file():
                kind = "a symbolic link" if path.is_symlink() else "not a regular file"
                notes.append(f"{path.relative_to(root)} is {kind}: skipped")
            else:
                out.append(path)
    return out


def _module_root(files: list[Path], root: Path) -> Path | None:
    """The shallowest folder holding the most modules of the contract or of a course dialect."""
    from ..dialects import DIALECTS

    known = {m for d in DIALECTS.values() for m in d.modules}
    counts: dict[Path, int] = {}
    for f in files:
        if f.suffix == ".py" and f.stem in known:
            counts[f.parent] = counts.get(f.parent, 0) + 1
    if not counts:
        return None
    return min(counts, key=lambda d: (-counts[d], len(d.relative_to(root).parts)))


def _from_notebook(path: Path, sub: Submission) -> Submission:
    code = read_notebook(path)
    sub.layout = "notebook"
    sub.files = notebook_files(code, path.name, NOTEBOOK_MODULES)
    sub.dropped = code.dropped
    sub.imports = imported_modules([src for _, src in code.cells], {"submission", "_notebook"})
    sub.notes.append(f"notebook {path.name}: kept the definitions of {len(code.cells)} code cells, "
                     f"left out {len(code.dropped)} statements (listed in the report)")
    return sub


def _from_zip(path: Path, sub: Submission) -> Submission:
    with tempfile.TemporaryDirectory(prefix="grader-zip-") as tmp:
        extract_zip(path, Path(tmp))
        return _from_folder(Path(tmp), sub, in_zip=True)


def _from_folder(root: Path, sub: Submission, in_zip: bool = False) -> Submission:
    sub.deliverables = read_deliverables(root, "the submission")  # read now: a zip's folder is temporary
    files = _walk(root, sub.notes)
    modules = _module_root(files, root)
    if modules is None:
        notebooks = [f for f in files if f.suffix == ".ipynb"]
        if len(notebooks) == 1:
            return _from_notebook(notebooks[0], sub)
        if notebooks:
            names = ", ".join(str(n.relative_to(root)) for n in notebooks)
            raise Rejected(f"found several notebooks ({names}) and no modules: hand in one notebook")
        archives = [f for f in files if f.suffix.lower() == ".zip"]
        if len(archives) == 1 and not in_zip:
            beside = sub.deliverables  # figures/ next to the zip count when the zip has none
            sub.notes.append(f"unpacked {archives[0].relative_to(root)}")
            sub = _from_zip(archives[0], sub)
            sub.deliverables = sub.deliverables or beside
            return sub
        raise Rejected(f"found none of {', '.join(m + '.py' for m in CONTRACT_MODULES)} (nor a course's own modules, "
                       "such as ex02_diffusion.py) and no notebook")
    total = 0
    for f in files:
        if f.suffix != ".py" or modules not in f.parents:
            continue
        total += f.stat().st_size
        if total > MAX_CODE_BYTES:
            raise Rejected(f"the Python files add up to more than {MAX_CODE_BYTES >> 20} MB")
        sub.files[str(f.relative_to(modules))] = f.read_bytes()
    where = "." if modules == root else str(modules.relative_to(root))
    sub.notes.append(f"graded the {len(sub.files)} Python files in {where}")
    missing = [m + ".py" for m in CONTRACT_MODULES if f"{m}.py" not in sub.files]
    if missing and len(missing) < len(CONTRACT_MODULES):  # none at all: a course's own modules
        sub.notes.append(f"missing modules: {', '.join(missing)}")
    local = {Path(rel).parts[0].removesuffix(".py") for rel in sub.files} | {"submission"}
    sub.imports = imported_modules([b.decode("utf-8", "replace") for b in sub.files.values()], local)
    return sub


def load_submission(path: Path) -> Submission:
    """Read a submission. Raises FileNotFoundError only when the path does not exist."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such submission: {path}")
    if path.is_symlink():
        raise FileNotFoundError(f"{path} is a symbolic link: give the submission's own file or folder")
    origin = "folder" if path.is_dir() else {".zip": "zip", ".ipynb": "notebook"}.get(path.suffix.lower(), "file")
    sub = Submission(path, origin)
    try:
        if origin == "folder":
            return _from_folder(path, sub)
        if origin == "notebook":
            return _from_notebook(path, sub)
        if origin == "zip":
            return _from_zip(path, sub)
        raise Rejected(f"{path.name}: hand in a folder, a .zip of it, or a .ipynb notebook")
    except Rejected as exc:
        sub.files = {}
        sub.rejected = str(exc)
        sub.notes.append(f"not graded: {exc}")
        return sub
