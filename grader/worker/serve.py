"""Answers the grader's requests: import a student module, call a function, build a module.

Requests and answers are plain data (see wire.py). Arguments may contain mock specs, which
become recording MockUNets here; their records go back with the answer.

    {"op": "import", "module": "diffusion"}
    {"op": "names", "module": "diffusion", "names": [...]}          -> the missing names
    {"op": "call", "target": "diffusion.q_sample", "args": [...], "kwargs": {...},
     "method": None | "sample", "margs": [...], "mkwargs": {...}, "repeat": 1, "seed": 0}
    {"op": "module", "target": "unet.Conv", "args": [...], "kwargs": {...}, "train": True,
     "forward": [{"args": [...], "kwargs": {...}}, ...], "seed": 0}
    {"op": "train", "part": "ddpm_class", ...}                        -> see smoke.py
    {"op": "train_step", "target": "train.train_step", "x": ..., "y": ..., "lr": 0.1,
     "grad_clip": None | float}                                       -> see smoke.step
"""

from __future__ import annotations

import importlib
import os
import random
import sys
from typing import Any

import torch
from torch import nn

from . import smoke
from .capture import Capture
from .failures import StudentFailure, describe
from .mocks import MockUNet, make_mock
from .wire import MOCK, first_device, to_wire

LAYER_KINDS = (
    (nn.ConvTranspose2d, "ConvTranspose2d"),
    (nn.Conv2d, "Conv2d"),
    (nn.BatchNorm2d, "BatchNorm2d"),
    (nn.GELU, "GELU"),
    (nn.AvgPool2d, "AvgPool2d"),
    (nn.Linear, "Linear"),
)


def layer_kind(module: nn.Module) -> str:
    for cls, name in LAYER_KINDS:
        if isinstance(module, cls):
            return name
    return type(module).__name__


def _call_order(module: nn.Module, out: list) -> list[Any]:
    """Forward pre-hooks that list, in the order of their first call, the submodules that hold
    parameters of their own: (name, [(parameter name, shape), ...]). The grader maps its reference
    design's weights onto this order and checks the result by the outputs, not by this list."""
    seen: set[str] = set()
    hooks = []
    for name, sub in module.named_modules():
        own = [(f"{name}.{p}" if name else p, tuple(t.shape)) for p, t in sub.named_parameters(recurse=False)]
        if not own:
            continue

        def record(m: nn.Module, args: Any, name: str = name, own: list = own) -> None:
            if name not in seen:
                seen.add(name)
                out.append((name, own))

        hooks.append(sub.register_forward_pre_hook(record))
    return hooks


class Server:
    def __init__(self, package: str, device: str, source_root: str, origin: str, output_limit: int = 4000,
                 dialect: str | None = None, aliases: dict[str, str] | None = None) -> None:
        self.package = package
        self.device = torch.device(device)
        self.roots = (source_root, "<notebook")
        self.origin = origin  # "modules" or "notebook": only changes the wording of messages
        self.capture = Capture(output_limit)
        self.aliases = dict(aliases or {})  # the TA's --map: contract name -> the submission's name
        self.via: list[str] = []  # the course's own calls an adapter made for the current request
        self._stems: list[str] | None = None  # the submission's top-level modules (for _find)
        self.adapter = None
        if dialect:  # a course's API: its adapter answers the contract modules it stands in for
            module = importlib.import_module(f"{__package__}.dialects.{dialect}")
            self.adapter = (module, module.Adapter(self._find, self.device, self.via))
            if self.device.type == "cpu":  # course handouts hard-code CUDA (Colab): graded here on the CPU
                importlib.import_module(f"{__package__}.cuda_to_cpu").install()

    # -- helpers ---------------------------------------------------------------------------

    def _label(self, module: str) -> str:
        return "the notebook" if self.origin == "notebook" else f"{module}.py"

    def _import(self, module: str) -> Any:
        if self.adapter is not None and module in self.adapter[0].PROVIDES:
            return self.adapter[1].module(module)
        return self._import_own(module)

    def _find(self, name: str, where: tuple[str, ...]) -> Any:
        """A name of the course's API, in its usual module (`where`) or else in any top-level module of the
        submission (scripts whose names say main, train or test are not imported: they may run at import)."""
        if self._stems is None:  # the staged submission is read-only: listed once
            self._stems = sorted(f[:-3] for f in os.listdir(self.roots[0]) if f.endswith(".py") and f != "__init__.py")
        stems = self._stems
        skip = ("main", "train", "test")
        order = [s for s in where if s in stems]
        order += [s for s in stems if s not in where and not any(k in s for k in skip)]
        first_error = None
        for stem in order:
            try:
                found = self._import_own(stem)
            except StudentFailure as exc:
                first_error = first_error or exc
                continue
            for wanted in (name, self.aliases.get(name)):
                if wanted and hasattr(found, wanted):
                    return getattr(found, wanted)
        if first_error is not None and order and order[0] in where:
            raise first_error  # the course's module does not import: that, not the name, is what to fix
        raise StudentFailure("missing", f"no module of the submission defines `{name}` (looked in "
                             f"{', '.join(s + '.py' for s in order) or 'no module'})", name=name)

    def _import_own(self, module: str) -> Any:
        try:
            return importlib.import_module(f"{self.package}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{self.package}.{module}":
                raise StudentFailure("import", f"the submission has no {module}.py") from None
            raise StudentFailure("import", self._import_message(module, exc), **self._details(exc)) from None
        except BaseException as exc:  # SyntaxError, sys.exit(), anything raised at import time
            raise StudentFailure("import", self._import_message(module, exc), **self._details(exc)) from None

    def _import_message(self, module: str, exc: BaseException) -> str:
        name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        top = (name or "").split(".")[0]
        own = (top == self.package or top in ("unet", "schedules", "diffusion", "flow", "train")
               or os.path.exists(os.path.join(self.roots[0], top + ".py"))
               or os.path.isdir(os.path.join(self.roots[0], top)))
        if name and not own:
            return (f"importing {self._label(module)} failed: the package {name} is not installed for grading "
                    "(only the assignment's are): import it only where you run it, or ask the course staff")
        info = describe(exc, self.roots)
        return f"importing {self._label(module)} failed: {info['type']}: {info['message']}"

    def _details(self, exc: BaseException) -> dict[str, Any]:
        info = describe(exc, self.roots)
        return {"type": info["type"], "traceback": info["traceback"]}

    def _resolve(self, target: str) -> Any:
        module, _, path = target.partition(".")
        obj = self._import(module)
        for part in path.split("."):
            if not hasattr(obj, part) and hasattr(obj, self.aliases.get(part, "")):
                part = self.aliases[part]  # the TA mapped the contract's name to the submission's
            if not hasattr(obj, part):
                raise StudentFailure("missing", f"{self._label(module)} does not define `{path}`", name=path)
            obj = getattr(obj, part)
        return obj

    def _inputs(self, value: Any, mocks: list[MockUNet]) -> Any:
        """Request data -> call arguments: tensors to the device, mock specs to mock UNets."""
        if isinstance(value, torch.Tensor):
            return value.to(self.device)
        if isinstance(value, dict):
            if MOCK in value:
                mock = make_mock(value[MOCK], self.device)
                mocks.append(mock)
                return mock
            return {k: self._inputs(v, mocks) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self._inputs(v, mocks) for v in value]
            return tuple(items) if isinstance(value, tuple) else items
        return value

    # -- ops -------------------------------------------------------------------------------

    def _op_import(self, req: dict[str, Any], mocks: list[MockUNet]) -> Any:
        self._import(req["module"])
        notebook = sys.modules.get(f"{self.package}._notebook")
        return {"notes": list(getattr(notebook, "_CELL_ERRORS", []))}

    def _op_names(self, req: dict[str, Any], mocks: list[MockUNet]) -> Any:
        module = self._import(req["module"])
        return [name for name in req["names"] if not hasattr(module, name)
                and not hasattr(module, self.aliases.get(name, ""))]

    def _op_call(self, req: dict[str, Any], mocks: list[MockUNet]) -> Any:
        fn = self._resolve(req["target"])
        args, kwargs = self._inputs(req.get("args", []), mocks), self._inputs(req.get("kwargs", {}), mocks)
        if req.get("method"):
            obj = fn(*args, **kwargs)
            fn = getattr(obj, req["method"], None)
            if fn is None:
                raise StudentFailure("missing", f"{req['target']} has no method `{req['method']}`")
            args, kwargs = self._inputs(req.get("margs", []), mocks), self._inputs(req.get("mkwargs", {}), mocks)
        values = [fn(*args, **kwargs) for _ in range(req.get("repeat", 1))]
        return values[0] if req.get("repeat", 1) == 1 else values

    def _op_module(self, req: dict[str, Any], mocks: list[MockUNet]) -> Any:
        cls = self._resolve(req["target"])
        module = cls(*self._inputs(req.get("args", []), mocks), **self._inputs(req.get("kwargs", {}), mocks))
        if not isinstance(module, nn.Module):
            raise StudentFailure("type", f"{req['target']}(...) is a {type(module).__name__}, not an nn.Module")
        module.to(self.device).train(req.get("train", True))
        if req.get("load"):  # the grader's weights, by the names this module reported
            module.load_state_dict({k: v.to(self.device) for k, v in req["load"].items()}, strict=False)
        info: dict[str, Any] = {
            "n_params": sum(p.numel() for p in module.parameters()),
            "leaves": [(name, layer_kind(m)) for name, m in module.named_modules() if not list(m.children())],
            "children": [(name, sum(p.numel() for p in m.parameters())) for name, m in module.named_children()],
            "outputs": [],
            "called": [],
        }
        called = _call_order(module, info["called"])
        info["gelu_calls"] = []  # GELUs applied in each forward, nn.GELU or F.gelu alike
        gelu, count = nn.functional.gelu, [0]

        def counting(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            return gelu(*args, **kwargs)

        nn.functional.gelu = counting
        try:
            self._forwards(module, req, mocks, info, count)
        finally:
            nn.functional.gelu = gelu
            for hook in called:
                hook.remove()
        return info

    def _forwards(self, module: nn.Module, req: dict[str, Any], mocks: list[MockUNet], info: dict[str, Any],
                  count: list[int]) -> None:
        for i, spec in enumerate(req.get("forward", [])):
            count[0] = 0
            args, kwargs = self._inputs(spec.get("args", []), mocks), self._inputs(spec.get("kwargs", {}), mocks)
            hooks = self._replace_outputs(module, req["target"], spec.get("replace") or {})
            try:
                with torch.no_grad():
                    info["outputs"].append(module(*args, **kwargs))
            except BaseException as exc:
                shapes = ", ".join(str(tuple(a.shape)) for a in args if isinstance(a, torch.Tensor))
                failure = describe(exc, self.roots, during=f"forward #{i + 1} with inputs of shapes {shapes}")
                raise StudentFailure(**{"kind": "exception", **failure}) from None
            finally:
                for hook in hooks:
                    hook.remove()
            info["gelu_calls"].append(count[0])

    def _replace_outputs(self, module: nn.Module, target: str, replace: dict[str, Any]) -> list[Any]:
        """Forward hooks that make the named submodules answer a fixed row, repeated over the batch."""
        hooks = []
        for name, row in replace.items():
            sub = getattr(module, name, None)
            if not isinstance(sub, nn.Module):
                raise StudentFailure("missing", f"{target} has no submodule `{name}` (the contract names the "
                                     "embedding blocks fc1_t, fc2_t, fc1_c, fc2_c)", name=name)
            value = row.to(self.device)
            hooks.append(sub.register_forward_hook(lambda m, inp, out, v=value: v.expand(out.shape[0], -1).clone()))
        return hooks

    def _op_train(self, req: dict[str, Any], mocks: list[MockUNet]) -> Any:
        return smoke.train(self._import, req, self.device)

    def _op_evaluate(self, req: dict[str, Any], mocks: list[MockUNet]) -> Any:
        return smoke.evaluate(self._import, req, self.device)

    def _op_train_step(self, req: dict[str, Any], mocks: list[MockUNet]) -> Any:
        return smoke.step(self._resolve(req["target"]), req, self.device)

    OPS = {"import": _op_import, "names": _op_names, "call": _op_call, "module": _op_module, "train": _op_train,
           "train_step": _op_train_step, "evaluate": _op_evaluate}

    # -- entry point -----------------------------------------------------------------------

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        saved = sys.stdout, sys.stderr
        self.capture.reset()
        sys.stdout = sys.stderr = self.capture  # reinstalled each time: the student may replace them
        try:
            return self._handle(req)
        finally:
            sys.stdout, sys.stderr = saved

    def _handle(self, req: dict[str, Any]) -> dict[str, Any]:
        seed = int(req.get("seed", 0))
        torch.manual_seed(seed)
        random.seed(seed)
        if "numpy.random" in sys.modules:  # only if loaded: importing it here could fail after the drop
            sys.modules["numpy.random"].seed(seed)
        mocks: list[MockUNet] = []
        self.via.clear()
        op = self.OPS.get(req.get("op", ""))
        try:
            if op is None:
                raise StudentFailure("protocol", f"unknown request {req.get('op')!r}")
            value = op(self, req, mocks)
            answer = {"ok": True, "value": to_wire(value), "device": first_device(value)}
        except StudentFailure as exc:
            answer = {"ok": False, "error": exc.info}
        except BaseException as exc:  # noqa: B036 - sys.exit() and friends are the student's failures too
            answer = {"ok": False, "error": describe(exc, self.roots)}
        try:
            answer["calls"] = [to_wire(m.records) for m in mocks]
        except BaseException:  # noqa: B036
            answer["calls"] = []
        answer["output"] = self.capture.text()
        answer["via"] = list(self.via[:8])
        return answer
