"""The student skeleton: generated from solution/, in sync, importable, and every stub raises
NotImplementedError with a TODO that names what to write."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from solution.schedules import ddpm_schedule
from tools.make_skeleton import MarkerError, compare, generate, strip_solutions

from .mocks import RecordingUNet

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p.stem for p in (ROOT / "skeleton").glob("*.py") if p.stem != "__init__")

# What the assignment asks students to write (the list), as qualified names.
REQUIRED = {
    "unet": [
        "Conv.__init__",
        "DownConv.__init__",
        "UpConv.__init__",
        "Flatten.__init__",
        "Unflatten.__init__",
        "ConvBlock.__init__",
        "DownBlock.__init__",
        "UpBlock.__init__",
        "FCBlock.__init__",
        "UnconditionalUNet.__init__",
        "UnconditionalUNet.unet_pass",
        "TimeConditionalUNet.forward",
        "ClassConditionalUNet.forward",
    ],
    "schedules": ["linear_beta_schedule", "cosine_beta_schedule", "sigmoid_beta_schedule", "ddpm_schedule"],
    "diffusion": ["add_noise", "q_sample", "p_losses", "p_sample", "ddpm_forward", "ddpm_sample", "guided_prediction"],
    "flow": ["fm_interpolate", "fm_forward", "fm_sample"],
    "train": ["denoiser_loss", "pure_noise_loss", "train_step"],
}


def stubs(module: str) -> list[str]:
    """Qualified names of the functions whose body raises the generated TODO."""
    tree = ast.parse((ROOT / "skeleton" / f"{module}.py").read_text())
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef):
                for stmt in ast.walk(child):
                    if isinstance(stmt, ast.Raise) and "TODO(" in ast.unparse(stmt):
                        found.append(prefix + child.name)
                        break

    visit(tree, "")
    return found


def test_skeleton_is_in_sync(tmp_path) -> None:
    generate(ROOT / "solution", tmp_path)
    assert compare(tmp_path, ROOT / "skeleton") == []


def test_check_mode_detects_a_hand_edit(tmp_path) -> None:
    generate(ROOT / "solution", tmp_path / "a")
    generate(ROOT / "solution", tmp_path / "b")
    edited = tmp_path / "b" / "diffusion.py"
    edited.write_text(edited.read_text().replace("TODO(q_sample)", "TODO(q_sample) edited"))
    (tmp_path / "b" / "extra.py").write_text("x = 1\n")
    problems = compare(tmp_path / "a", tmp_path / "b")
    assert any("diffusion.py" in p for p in problems) and any("extra.py" in p for p in problems)


def test_required_stubs_exist() -> None:
    for module, names in REQUIRED.items():
        missing = set(names) - set(stubs(module))
        assert not missing, f"{module}.py lacks stubs for {sorted(missing)}"


def test_no_solution_code_left() -> None:
    for path in (ROOT / "skeleton").glob("*.py"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    # spot-check bodies that must be gone
    assert "torch.cumprod(alphas" not in (ROOT / "skeleton" / "schedules.py").read_text()
    assert "return out_uncond + guidance_scale" not in (ROOT / "skeleton" / "diffusion.py").read_text()


def test_the_skeleton_speaks_of_the_assignment_only() -> None:
    """What students read names the assignment's parts, not the course's handout numbers, and no path
    into the grader's files."""
    for path in sorted((ROOT / "skeleton").glob("*.py")):
        text = path.read_text()
        for word in ("handout 000", "handout 001", "assets/", "grader/"):
            assert word not in text, f"{path.name} mentions {word!r}"


def test_the_no_scheduler_settings_are_the_student_s_todo(tmp_path) -> None:
    """FM 2.6: the settings of the run without a scheduler are a TODO; until it is written every other
    run is there, and training that one names the TODO (the reference's choice stays in solution/)."""
    from skeleton.config import NO_SCHEDULER, get_runs
    from skeleton.deliverables import Deliverables
    from solution.config import get_runs as solved

    assert NO_SCHEDULER not in get_runs("quick") and len(get_runs("quick")) == len(solved("quick")) - 1
    with pytest.raises(NotImplementedError, match=r"TODO\(no_scheduler\)"):
        Deliverables(tmp_path, "tiny", device="cpu", progress=False).train(NO_SCHEDULER)
    run = solved("full")[NO_SCHEDULER]
    assert not run.lr_decay and run.lr < solved("full")["fm_class"].lr and run.snapshots == (run.epochs,)


def test_skeleton_imports_cleanly() -> None:
    code = "; ".join(f"import skeleton.{m}" for m in MODULES)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def _argument(name: str, default: object) -> object:
    """A plausible value for a parameter, by its name."""
    images = {"x", "x0", "x1", "x_t", "noise", "z", "images"}
    table = {
        "t": torch.tensor([1, 2]),
        "t_norm": torch.tensor([0.1, 0.2]),
        "sched": ddpm_schedule(num_ts=10),
        "unet": RecordingUNet(),
        "model": RecordingUNet(),
        "c": torch.eye(10)[:2],
        "sigma": 0.5,
        "num_ts": 10,
        "img_wh": (28, 28),
        "in_channels": 1,
        "out_channels": 2,
        "num_hiddens": 4,
        "num_classes": 10,
        "p_uncond": 0.1,
        "y": torch.tensor([1, 2]),
        "loss_fn": lambda m, x, y: x.sum(),
        "optimizer": torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1),
    }
    if name in images:
        return torch.rand(2, 1, 28, 28)
    if name in table:
        return table[name]
    assert default is not inspect.Parameter.empty, f"no test value for parameter {name!r}"
    return default


@pytest.mark.parametrize("module", sorted(REQUIRED))
def test_every_stub_raises_not_implemented_with_a_todo(module: str) -> None:
    mod = importlib.import_module(f"skeleton.{module}")
    names = stubs(module)
    for qualname in names:
        owner, _, attr = qualname.rpartition(".")
        if owner:
            cls = getattr(mod, owner)
            func = getattr(cls, attr)
            self = cls.__new__(cls)
            torch.nn.Module.__init__(self) if isinstance(self, torch.nn.Module) else None
            if owner.startswith("Time"):
                self.modulation = "add"
            params = list(inspect.signature(func).parameters.values())[1:]
            call = lambda f=func, s=self, p=params: f(s, *[_argument(q.name, q.default) for q in p])
        else:
            func = getattr(mod, attr)
            params = list(inspect.signature(func).parameters.values())
            call = lambda f=func, p=params: f(*[_argument(q.name, q.default) for q in p])
        with pytest.raises(NotImplementedError, match=r"^TODO\(") as err:
            call()
        # its own TODO, or that of a stub it calls first (ddpm_schedule -> linear_beta_schedule)
        named = str(err.value).split(")")[0].removeprefix("TODO(")
        assert named in names, f"{module}.{qualname}: {err.value}"


def test_marker_errors_are_reported() -> None:
    ok = "def f():\n    # BEGIN SOLUTION: return one\n    return 1\n    # END SOLUTION\n"
    assert "TODO(f): return one." in strip_solutions(ok)
    with pytest.raises(MarkerError, match="never closed"):
        strip_solutions("def f():\n    # BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(MarkerError, match="without BEGIN"):
        strip_solutions("def f():\n    return 1\n    # END SOLUTION\n")
    with pytest.raises(MarkerError, match="inside the region"):
        strip_solutions("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n")
