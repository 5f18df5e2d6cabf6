"""Hostile submissions: copies of the reference that attack the grader instead of (or besides)
doing the work. Each must be graded to completion, lose exactly `fails` and nothing else, and
gain nothing from its attack. A case that cheats answers correctly *only if the attack worked*,
so a lost test proves the attack failed.

Some attacks are stopped by the worker's namespaces (hiding the grader's files, no network, no
other process in sight): root can always make them, an ordinary user where the kernel allows user
namespaces; those cases say so with `needs_namespaces`. The process limit needs root (`needs_root`).
The broken submissions of variants.py (a syntax error, sys.exit and an infinite loop in a function, a NaN) and the
unsafe zips and corrupted notebooks of test_grader_submission.py / test_grader_notebook.py
belong to the same corpus and are counted with it in docs/validity.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.grader_fixtures.variants import FLOW, NOISING, ROOT, SOLUTION, TRAIN_PY, Variant

INTERP = "    return (1 - t) * x0 + t * x1"
CONV_BN_GELU = ("            nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1),\n"
                "            nn.BatchNorm2d(out_channels),\n            nn.GELU(),\n        )\n")
CONV_SKIPS_BN = "\n    def forward(self, x):\n        return self[2](self[0](x))\n"
ADD_NOISE = "    return x + sigma * noise\n"
FLOW_IMPORT = "from .diffusion import call_unet"


@dataclass(frozen=True)
class Hostile:
    name: str
    what: str  # the attack, in words
    edits: tuple[tuple[str, str, str], ...]
    fails: frozenset[str]  # exactly the tests that must lose their points
    message: str  # in the output of every failing test
    needs_root: bool = False
    needs_namespaces: bool = False  # root, or an ordinary user with user namespaces
    linger_s: float = 0.0  # how long after the grade its outputs are checked again (for late attacks)
    timeout: float | None = None
    drop: tuple[str, ...] = field(default=())  # files of the reference left out
    plant_copy: bool = False  # a copy of the reference is left, readable by all, outside the checkout
    parts: str = ""  # the parts it is graded on besides those of `fails` (which part runs the attack)

    def variant(self) -> Variant:
        return Variant(f"hostile_{self.name}", self.edits, self.fails, self.message, self.timeout)


def _cheat_interp(attack: str) -> tuple[str, str, str]:
    """fm_interpolate answers right only when `attack` (code setting OK) succeeded."""
    body = f"    try:\n{attack}\n    except Exception:\n        OK = False\n"
    return ("flow.py", INTERP, body + "    if not OK:\n        return x0\n" + INTERP)


# At import: a double-forked process in a session of its own that, for 20 s, finds the grader's --out
# folder from the command lines in /proc and writes a perfect results.json there.
_LATE_RESULTS = """import os as _os
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        import json, time
        for _ in range(200):
            for _pid in [p for p in _os.listdir('/proc') if p.isdigit()]:
                try:
                    _args = open(f'/proc/{_pid}/cmdline', 'rb').read().split(b'\\0')
                    _out = _args[_args.index(b'--out') + 1].decode()
                    with open(_os.path.join(_out, 'results.json'), 'w') as _f:
                        json.dump({'score': 1000, 'tests': []}, _f)
                except Exception:
                    pass
            time.sleep(0.1)
    _os._exit(0)
"""


def cases(port: int) -> list[Hostile]:
    """`port`: a TCP port the test listens on at 127.0.0.1, for the network case."""
    interp_tests = frozenset({"test_fm_interpolate", "test_fm_forward_loss", "test_fm_forward_unet_inputs",
                              "test_flow_matching_wrapper"})
    return [
        Hostile("loop_at_import", "an infinite loop when flow.py is imported",
                (("flow.py", FLOW_IMPORT, "while True:\n    pass\n" + FLOW_IMPORT),),
                frozenset(FLOW + TRAIN_PY), "did not finish within", timeout=4.0),
        Hostile("os_exit_at_import", "os._exit(3) when flow.py is imported",
                (("flow.py", FLOW_IMPORT, "import os\nos._exit(3)\n" + FLOW_IMPORT),),
                frozenset(FLOW + TRAIN_PY), "exited"),
        Hostile("kill_own_worker", "add_noise kills its own process",
                (("diffusion.py", ADD_NOISE, "    import os\n    os.kill(os.getpid(), 9)\n" + ADD_NOISE),),
                frozenset(NOISING + ["test_denoiser_loss"]), "killed"),
        Hostile("memory_bomb", "sigmoid_beta_schedule allocates 64 GiB",
                (("schedules.py", "    t = torch.arange(num_ts, dtype=torch.float64)\n    ramp",
                  "    hog = torch.ones(1 << 34)\n    t = torch.arange(num_ts, dtype=torch.float64)\n    ramp"),),
                frozenset({"test_sigmoid_schedule", "test_ddpm_schedule_kinds"}), "memory"),
        Hostile("fork_bomb", "add_noise forks until the process limit stops it",
                (("diffusion.py", ADD_NOISE, "    import os, time\n    while True:\n        if os.fork() == 0:\n"
                  "            time.sleep(120)\n            os._exit(0)\n" + ADD_NOISE),),
                frozenset(NOISING + ["test_denoiser_loss"]), "BlockingIOError", needs_root=True),
        Hostile("print_100mb", "add_noise prints 100 MB, then answers right",
                (("diffusion.py", ADD_NOISE, "    print('x' * (100 << 20))\n" + ADD_NOISE),),
                frozenset(), "", parts="noising"),
        Hostile("wrong_dtype", "q_sample always answers in float32",
                (("diffusion.py", "    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise",
                  "    return (ab.sqrt() * x0 + (1 - ab).sqrt() * noise).float()"),),
                frozenset({"test_q_sample_dtype_device"}), "not torch.float64"),
        Hostile("meta_device", "fm_interpolate answers on the meta device (no data)",
                (("flow.py", INTERP, "    return ((1 - t) * x0 + t * x1).to('meta')"),),
                interp_tests | {"test_fm_forward_p_uncond"}, "meta"),
        Hostile("patch_allclose", "patches torch.allclose, torch.testing and pytest at import to always pass, "
                "then answers 0",
                (("flow.py", FLOW_IMPORT, "import torch.testing\ntorch.allclose = lambda *a, **k: True\n"
                  "torch.testing.assert_close = lambda *a, **k: None\ntry:\n    import pytest\n"
                  "    pytest.approx = lambda *a, **k: a[0]\nexcept ImportError:\n    pass\n" + FLOW_IMPORT),
                 ("flow.py", INTERP, "    return 0 * x0")),
                interp_tests, "expected"),
        Hostile("write_results", "writes a perfect results.json and report wherever it can reach, then answers 0",
                (("flow.py", INTERP, "    import json, os\n    fake = {'score': 1000, 'tests': []}\n"
                  f"    for d in ['.', '..', '/autograder/results', {str(ROOT / 'build')!r}, os.getcwd()]:\n"
                  "        for name in ('results.json', 'report.md', 'report.html'):\n            try:\n"
                  "                with open(os.path.join(d, name), 'w') as f:\n"
                  "                    json.dump(fake, f)\n"
                  "            except OSError:\n                pass\n    return 0 * x0"),),
                interp_tests, "expected"),
        Hostile("read_solution", "reads the reference solution to copy it",
                (_cheat_interp(f"        OK = 'return (1 - t) * x0' in open({str(SOLUTION / 'flow.py')!r}).read()"),),
                interp_tests, "expected", needs_namespaces=True),
        Hostile("read_hidden_tests", "reads the grader's hidden tests and golden values",
                (_cheat_interp(f"        OK = bool(open({str(ROOT / 'grader' / 'rubric.toml')!r}).read()) and "
                               f"bool(open({str(ROOT / 'assets' / 'classifier.json')!r}).read())"),),
                interp_tests, "expected", needs_namespaces=True),
        Hostile("network", "opens a TCP connection to the grader's machine",
                (_cheat_interp(f"        import socket\n        socket.create_connection(('127.0.0.1', {port}), "
                               "timeout=2).close()\n        OK = True"),),
                interp_tests, "expected", needs_namespaces=True),
        Hostile("kill_grader", "kills its parent process, the grader",
                (("diffusion.py", ADD_NOISE, "    import os, signal\n    try:\n        os.kill(os.getppid(), "
                  "signal.SIGKILL)\n    except OSError:\n        pass\n    return 0 * x\n"),),
                frozenset(NOISING + ["test_denoiser_loss"]), "expected", needs_namespaces=True),
        Hostile("proc_scan", "reads the grader's files through /proc/<pid>/root and cwd of every process",
                (_cheat_interp("        import os\n        OK = False\n"
                               "        for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
                               "            for base in (f'/proc/{pid}/cwd', f'/proc/{pid}/root' + "
                               f"{str(ROOT)!r}):\n"
                               "                try:\n"
                               "                    OK = OK or bool(open(base + '/grader/rubric.toml').read())\n"
                               "                except OSError:\n                    pass"),),
                interp_tests, "expected", needs_namespaces=True),
        Hostile("late_results", "leaves a process behind that rewrites the grader's results.json after it exits",
                (("flow.py", FLOW_IMPORT, _LATE_RESULTS + FLOW_IMPORT),),
                frozenset(), "", needs_namespaces=True, linger_s=2.0, parts="flow"),
        Hostile("search_filesystem", "searches the whole filesystem for another copy of the reference (another "
                "checkout of the project, a download, a cache) and copies it",
                (_cheat_interp("        import os\n"
                               "        OK, mine = False, os.path.dirname(os.path.abspath(__file__))\n"
                               "        for top in set(os.listdir('/')) - {'proc', 'sys', 'usr', 'dev'}:\n"
                               "            for dirpath, _, files in os.walk('/' + top):\n"
                               "                if 'flow.py' in files and dirpath != mine:\n"
                               "                    try:\n"
                               "                        text = open(os.path.join(dirpath, 'flow.py')).read()\n"
                               "                        OK = OK or ('BEGIN SOLUTION' in text and INTERP_LINE in text)\n"
                               "                    except OSError:\n                        pass"),
                 ("flow.py", FLOW_IMPORT, f"INTERP_LINE = {INTERP.strip()!r}\n" + FLOW_IMPORT)),
                interp_tests, "expected", needs_namespaces=True, plant_copy=True, timeout=60.0),
        Hostile("ast_recursion", "flow.py holds an expression nested a million levels deep (the parser's "
                "RecursionError / MemoryError)",
                (("flow.py", FLOW_IMPORT, "_deep = " + "-" * 1_000_000 + "1\n" + FLOW_IMPORT),),
                frozenset(FLOW + TRAIN_PY), "flow"),
        Hostile("slow_but_correct", "add_noise waits 0.5 s on every call, then answers right",
                (("diffusion.py", ADD_NOISE, "    import time\n    time.sleep(0.5)\n" + ADD_NOISE),),
                frozenset(), "", parts="noising,test_denoiser_loss"),
        Hostile("huge_message", "fm_interpolate raises an exception whose message is 50 MB long",
                (("flow.py", INTERP, "    raise ValueError('x' * (50 << 20))"),),
                interp_tests | {"test_fm_forward_p_uncond"}, "raised ValueError"),
        Hostile("shared_reply", "fm_interpolate answers a list that holds 10**9 values through shared references",
                (("flow.py", INTERP, "    v = [0] * 10\n    for _ in range(8):\n        v = [v] * 10\n    return v"),),
                interp_tests | {"test_fm_forward_p_uncond"}, "fm_"),
        Hostile("deep_reply", "fm_interpolate answers a list nested 5000 levels deep",
                (("flow.py", INTERP, "    import sys\n    sys.setrecursionlimit(100_000)\n    v = []\n"
                  "    for _ in range(5000):\n        v = [v]\n    return v"),),
                interp_tests | {"test_fm_forward_p_uncond"}, "fm_"),
        Hostile("layers_listed_not_used", "Conv registers its BatchNorm2d (so the layer list and the parameter count "
                "look like the design's) but its forward skips it",
                (("unet.py", CONV_BN_GELU, CONV_BN_GELU + CONV_SKIPS_BN),),
                frozenset({"test_ops_layers", "test_params_unconditional", "test_params_conditional",
                           "test_unet_layer_counts"}), "BatchNorm2d"),
        Hostile("missing_module", "flow.py is not in the submission",
                (), frozenset(FLOW + TRAIN_PY), "flow", drop=("flow.py",)),
    ]


# Probe-shaped: every function of the diffusion and flow code makes the calls the probes look at
# (the mock UNet at the right t, the right number of steps) and returns the right shapes, but noise
# or a constant where the value should be. The paired value checks leave it at most a point or two.
RANDN_SCHEDULE = "    return torch.rand(num_ts).sort().values * 0.02"
CONSTANT_LOSS = "    return (unet({}) * 0).mean() + 1.0"
PROBE_SHAPED = Variant("probe_shaped", (
    ("diffusion.py", "    return x + sigma * noise\n", "    return torch.randn_like(x)\n"),
    ("diffusion.py", "    return out_uncond + guidance_scale * (out_cond - out_uncond)",
     "    return torch.randn_like(out_cond)"),
    ("diffusion.py", "    return c * mask.to(device=c.device, dtype=c.dtype).reshape(-1, 1)", "    return c"),
    ("diffusion.py", "    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise", "    return torch.randn_like(x0)"),
    ("diffusion.py",
     '    if loss_type == "l1":\n        return F.l1_loss(eps, noise)\n    return F.mse_loss(eps, noise)',
     "    return (eps * 0).mean() + 1.0"),
    ("diffusion.py", "    return mean + nonzero * beta.sqrt() * z", "    return torch.randn_like(x_t)"),
    ("flow.py", INTERP, "    return torch.randn_like(x0)"),
    ("flow.py", "    return F.mse_loss(u, x1 - noise)", "    return (u * 0).mean() + 1.0"),
    ("flow.py", "        x = x + guided_prediction(unet, x, t, c, guidance_scale) / num_ts",
     "        x = torch.randn_like(x) + 0 * guided_prediction(unet, x, t, c, guidance_scale)"),
    ("schedules.py", "    return torch.linspace(beta_start, beta_end, num_ts, dtype=torch.float32)", RANDN_SCHEDULE),
    ("schedules.py", "    return betas.clamp(max=max_beta).to(torch.float32)", RANDN_SCHEDULE),
    ("schedules.py", "    return (beta_start + ramp * (beta_end - beta_start)).to(torch.float32)", RANDN_SCHEDULE),
    ("train.py", "    return F.mse_loss(unet(add_noise(x, sigma)), x)", CONSTANT_LOSS.format("add_noise(x, sigma)")),
    ("train.py", "    return F.mse_loss(unet(torch.randn_like(x)), x)", CONSTANT_LOSS.format("torch.randn_like(x)")),
), frozenset(), "")
PROBE_PARTS = "noising,schedules,q_sample,loss,p_sample,ddpm_sample,flow"
