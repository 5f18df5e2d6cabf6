"""Pack your upload: check it against the assignment's manifest, then write one zip.

    python submit.py                        # hw/ and the deliverables in deliverables/ (make deliverables)
    python submit.py --deliverables DIR     # the folder that holds figures/, losses/ and weights/
    python submit.py --out my-upload.zip    # where the zip goes (default: submission.zip)

The zip holds your modules (hw/*.py) with figures/, losses/ and weights/ beside them: what the
grader reads. It checks first that every figure of the manifest (hw/manifest.py), every loss log
behind a loss curve and every model behind a figure is there, and leaves out what the grader does
not read: checkpoints/, virtual environments, caches. Upload the zip as it is.
"""

from __future__ import annotations

import argparse
import ast
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDERS = ("figures", "losses", "weights")  # what the grader reads beside the modules
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def manifest(package: Path) -> list[dict]:
    """The manifest's FIGURES, read from hw/manifest.py without running your code."""
    tree = ast.parse((package / "manifest.py").read_text())
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign)
                                                                        else None)
        if isinstance(target, ast.Name) and target.id == "FIGURES":
            return ast.literal_eval(node.value)
    raise SystemExit(f"submit: {package / 'manifest.py'} has no FIGURES table")


def needed(figures: list[dict]) -> list[str]:
    """Every file of the deliverables the grader reads, by the manifest: the figures, the loss log of
    each loss curve, and the final weights of each run behind a figure (with their settings)."""
    files = [f"figures/{f['file']}" for f in figures]
    files += [f"losses/{f['run']}.json" for f in figures if f["kind"] == "loss"]
    runs = list(dict.fromkeys(f["run"] for f in figures if f.get("run")))
    files += [f"weights/{run}{ext}" for run in runs for ext in (".pt", ".json")]
    return list(dict.fromkeys(files))


def pack(package: Path, deliverables: Path, out: Path) -> tuple[list[str], int]:
    """Write the zip; return the files it holds and its size in bytes."""
    modules = sorted(p for p in package.glob("*.py"))
    extras = sorted(p for folder in FOLDERS if (deliverables / folder).is_dir()
                    for p in (deliverables / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    names = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        entries = [(p, p.name) for p in modules] + [(p, p.relative_to(deliverables).as_posix()) for p in extras]
        for path, name in entries:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
            names.append(name)
    return names, out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", type=Path, default=HERE / "hw", help="the folder of your modules (default hw/)")
    ap.add_argument("--deliverables", type=Path, default=HERE / "deliverables",
                    help="the folder holding figures/, losses/ and weights/ (default deliverables/)")
    ap.add_argument("--out", type=Path, default=HERE / "submission.zip")
    ap.add_argument("--force", action="store_true", help="write the zip even when something is missing")
    args = ap.parse_args(argv)
    if not (args.package / "diffusion.py").is_file():
        print(f"submit: {args.package} is not the folder of your modules (unet.py, diffusion.py, ...)")
        return 2
    missing = [name for name in needed(manifest(args.package)) if not (args.deliverables / name).is_file()]
    if missing:
        print(f"submit: {len(missing)} file(s) the grader reads are missing from {args.deliverables}:")
        print("\n".join(f"  {name}" for name in missing[:20]) + ("\n  ..." if len(missing) > 20 else ""))
        print("make deliverables (or the notebook) writes them; each missing one costs the points of its figure.")
        if not args.force:
            print("Nothing was written (--force writes the zip all the same).")
            return 1
    names, size = pack(args.package, args.deliverables, args.out)
    modules = sum("/" not in n for n in names)
    print(f"submit: wrote {args.out} ({modules} modules, {len(names) - modules} deliverable files, "
          f"{size / 2**20:.1f} MB): upload it as it is")
    return 0


if __name__ == "__main__":
    sys.exit(main())
