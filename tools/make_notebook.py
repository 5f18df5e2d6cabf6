"""Generate the assignment notebooks from the student modules.

notebooks/assignment.ipynb is built from skeleton/ (what students fill in, e.g. on Colab);
notebooks/solution.ipynb from solution/ (for staff, and executed by the test suite).
Each module becomes a markdown introduction plus one code cell per class or function, in
reading order; then one section per part trains the models and shows the deliverables.

    python tools/make_notebook.py           # write both notebooks
    python tools/make_notebook.py --check   # fail if the committed notebooks are stale
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {"skeleton": ROOT / "notebooks" / "assignment.ipynb", "solution": ROOT / "notebooks" / "solution.ipynb"}

# (module, heading, what the student does there), in the order a student works.
MODULES = [
    (
        "unet",
        "Part 1.1: the UNet",
        "Build the ops, the blocks and the three UNets. The conditional UNets reuse "
        "`UnconditionalUNet.unet_pass` and inject their embeddings at two places.",
    ),
    (
        "schedules",
        "Part 2: variance schedules",
        "The linear schedule of the handout, plus the cosine and sigmoid "
        "schedules, and the alphas / alpha-bars DDPM needs.",
    ),
    (
        "diffusion",
        "Parts 1.2 and 2: noising and DDPM",
        "Part 1 noising, then the DDPM forward process, loss and sampler, with classifier-free guidance.",
    ),
    ("flow", "Flow matching", "Interpolate noise to data, regress the velocity, and integrate it with Euler steps."),
    ("data", "Data", "MNIST as in-memory tensors (nothing to implement)."),
    (
        "config",
        "Hyperparameters",
        "The handout's values (`full`) and a CPU-sized `quick` profile (nothing to implement).",
    ),
    (
        "train",
        "Training",
        "The Part 1 losses and one optimisation step; the loop around them checkpoints every epoch and resumes.",
    ),
    ("figures", "Figures", "Grids, loss curves and GIFs (nothing to implement)."),
    (
        "manifest",
        "The deliverables manifest",
        "Which figures the grader expects, with their file names (nothing to implement).",
    ),
    ("deliverables", "Running everything", "Trains each part and writes the figures (nothing to implement)."),
]

INTRO = """# Diffusion models from scratch: UNet denoiser, DDPM and flow matching on MNIST

You will build, piece by piece, a UNet that denoises MNIST digits, then turn it into two
generative models: a DDPM (time- and class-conditioned, with classifier-free guidance) and a
flow-matching model. Cells that say `raise NotImplementedError("TODO(...)")` are yours to
fill in: the message says what to write. Everything else is provided.

**How to work.** Run the cells in order. After filling in a part, train that part below: its
figure shows at once whether it works. (The release's `python check.py` checks the modules in
`hw/` against the contract: shapes, calls and seeding, with stand-in networks. It is not the
grade: the grader runs its own tests on what you submit and shows you the results of its visible
ones at once.) The images are float tensors `(N, 1, 28, 28)` with pixels in `[0, 1]`.

**Where it runs.** On Colab, pick a GPU runtime and set `PROFILE = "full"` (the handout's
hyperparameters). On a laptop CPU keep `PROFILE = "quick"`: smaller UNets and shorter epochs
that still give recognisable digits in about a quarter of an hour."""

SETUP = '''import os
import subprocess
import sys

if "google.colab" in sys.modules:  # Colab has torch; make sure the rest is there
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "tqdm", "matplotlib"], check=True)

PROFILE = os.environ.get("HW_PROFILE", "quick")  # "full" on a GPU, "quick" on a CPU
OUT = os.environ.get("HW_OUT", "deliverables")  # figures/, losses/, weights/ and checkpoints/ go here
os.environ.setdefault("DATA_ROOT", "./data")  # MNIST is downloaded here when missing
# Colab disconnects: keep checkpoints on Google Drive so training resumes where it stopped.
# from google.colab import drive; drive.mount("/content/drive"); OUT = "/content/drive/MyDrive/diffusion-hw"'''

RUN_INTRO = """# Training and deliverables

Each part below trains its models (resuming from `OUT/checkpoints` if a run was interrupted)
and writes its figures to `OUT/figures`, the loss logs to `OUT/losses` and each run's final
weights to `OUT/weights` (the grader samples from them to check that your model made the figures).
Submit those three folders with your code; leave `OUT/checkpoints` out."""

SHOW = """from IPython import display as ipy

runner = Deliverables(OUT, PROFILE)


def show(*fig_ids: str) -> None:
    for fig_id in fig_ids:
        path = runner.fig(fig_id)
        print(path.name)
        ipy.display(ipy.Image(filename=str(path)))"""

PARTS = [
    (
        "## Part 1: single-step denoising",
        'runner.run(["part1"])\nshow("noising", "denoiser_loss", "denoiser_epoch1", '
        '"denoiser_epoch5", "denoiser_ood", "purenoise_loss", "purenoise_epoch1", "purenoise_epoch5")',
        "**Question (1.2.3).** What do the outputs of the pure-noise denoiser look like, how do they relate to the "
        "training digits, and why? *Your answer here.*",
    ),
    (
        "## Part 2: DDPM",
        'runner.run(["ddpm"])\nshow("schedules", "ddpm_time_loss", "ddpm_time_epoch5", '
        '"ddpm_time_epoch20", "ddpm_class_loss", "ddpm_class_epoch5", "ddpm_class_epoch20")',
        None,
    ),
    (
        "## Flow matching",
        'runner.run(["fm"])\nshow("fm_time_loss", "fm_time_epoch1", "fm_time_epoch5", '
        '"fm_time_epoch10", "fm_class_loss", "fm_class_epoch1", "fm_class_epoch5", "fm_class_epoch10", '
        '"fm_class_nosched_loss", "fm_class_nosched_epoch10")',
        "**Question (no scheduler).** What did you change to keep the quality without the learning-rate scheduler, "
        "and why does it work? *Your answer here.*",
    ),
]


def _is_main_guard(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def module_cells(source: str) -> tuple[str, list[str]]:
    """(the module docstring, code cells: imports and constants grouped, one per def/class).
    Relative imports and the `if __name__ == "__main__"` block are dropped: in a notebook
    every name is already global and the cell would run the command line."""
    tree = ast.parse(source)
    lines = source.splitlines()
    doc = ast.get_docstring(tree) or ""
    cells: list[str] = []
    pending: list[str] = []
    prev_end = 0
    for node in tree.body:
        chunk = "\n".join(lines[prev_end : node.end_lineno]).strip("\n")
        prev_end = node.end_lineno
        is_doc = node is tree.body[0] and doc and isinstance(node, ast.Expr)
        if is_doc or _is_main_guard(node) or (isinstance(node, ast.ImportFrom) and node.level > 0):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if pending:
                cells.append("\n".join(pending).strip("\n"))
                pending = []
            cells.append(chunk)
        else:
            pending.append(chunk)
    if pending:
        cells.append("\n".join(pending).strip("\n"))
    return doc, [c for c in cells if c.strip()]


def _defined_names(source: str) -> set[str]:
    """Names a module binds at top level by def, class or assignment (imports may repeat)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


PACK_INTRO = """# Check and pack your upload

Save this notebook first (on Colab: *File > Download > .ipynb*, then put the file next to `OUT`, or
set `NOTEBOOK` to where it is). The cell checks `OUT` against the manifest (every figure, the loss
log of every loss curve, the weights of every run behind a figure) and writes `submission.zip`:
this notebook with `figures/`, `losses/` and `weights/` beside it, no checkpoints. Upload that zip."""

PACK = '''import zipfile
from pathlib import Path

NOTEBOOK = Path("assignment.ipynb")  # this notebook, saved


def pack_upload(notebook: Path, out: str, zip_path: str = "submission.zip") -> None:
    runs = sorted({f["run"] for f in FIGURES if f.get("run")})
    need = [f"figures/{f['file']}" for f in FIGURES]
    need += [f"losses/{f['run']}.json" for f in FIGURES if f["kind"] == "loss"]
    need += [f"weights/{run}{ext}" for run in runs for ext in (".pt", ".json")]
    missing = [str(notebook)] * (not notebook.is_file()) + [n for n in need if not (Path(out) / n).is_file()]
    if missing:
        print("Not packed: missing", *missing, sep="\\n  ")
        return
    files = sorted(p for d in ("figures", "losses", "weights") for p in (Path(out) / d).rglob("*") if p.is_file())
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(notebook, notebook.name)
        for path in files:
            zf.write(path, path.relative_to(out).as_posix())
    print(f"Wrote {zip_path} ({len(files)} deliverable files): upload it as it is.")


pack_upload(NOTEBOOK, OUT)'''


def build_notebook(src: Path) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(INTRO), new_code_cell(SETUP)]
    owner: dict[str, str] = {}
    for name, heading, task in MODULES:
        source = (src / f"{name}.py").read_text()
        # One namespace holds every module in a notebook: two modules must not bind one name.
        for defined in _defined_names(source):
            if owner.setdefault(defined, name) != name:
                raise SystemExit(f"{name}.py and {owner[defined]}.py both define {defined!r}; rename one")
        doc, code = module_cells(source)
        text = f"# {heading} (`{name}.py`)\n\n{task}"
        if doc:
            text += "\n\n" + doc
        cells.append(new_markdown_cell(text))
        cells += [new_code_cell(c) for c in code]
    cells += [new_markdown_cell(RUN_INTRO), new_code_cell(SHOW)]
    for heading, code, question in PARTS:
        cells += [new_markdown_cell(heading), new_code_cell(code)]
        if question:
            cells.append(new_markdown_cell(question))
    cells += [new_markdown_cell(PACK_INTRO), new_code_cell(PACK)]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:03d}"  # stable ids keep the committed file reproducible
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["accelerator"] = "GPU"
    return nb


def render(src: Path) -> str:
    return nbformat.writes(build_notebook(src)) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed notebooks differ")
    args = ap.parse_args(argv)
    stale = []
    for folder, path in OUTPUTS.items():
        text = render(ROOT / folder)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"stale notebook(s): {', '.join(stale)}; run `make skeleton`")
        return 1
    if args.check:
        print("notebooks are in sync with the modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
