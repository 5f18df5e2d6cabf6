"""Entry point of a sandbox worker:  python -I -B <stage>/lib/<pkg>/boot.py '<json config>'

Runs as the grader's user, confines itself (namespaces: its own network, mounts and processes,
inside a user namespace when not root, and a root of its own that holds only an allowlist of the
machine's folders; see confine.py), imports trusted code (torch, this package, the
installed modules the submission imports), drops to an unprivileged user when it is root
(keeping the interpreter's own folders importable, see confine.open_import_routes), and only
then adds the submission to sys.path and serves requests. The config says which
file descriptors carry requests and answers; fd 1 and 2 go to a size-limited log file.
"""

from __future__ import annotations

import importlib
import json
import os
import sys


def _preimport(names: list[str], forbidden: set[str]) -> None:
    """Import installed modules while every file is still readable (see submission/imports.py);
    never the submission's own (`forbidden`), which must not run before the drop."""
    for name in names:
        if name.split(".")[0] in forbidden:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: B036 - a module that fails here fails for the student too, visibly
            pass


def main() -> None:
    cfg = json.loads(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    pkg = os.path.basename(here)
    sys.path.insert(0, os.path.dirname(here))
    confine = importlib.import_module(f"{pkg}.confine")
    limits = cfg["limits"]
    was_root, real_uid = os.geteuid() == 0, os.getuid()  # before a user namespace renames us

    confine.set_basic_limits(limits["fsize_mb"], limits["nofile"])
    ns = confine.enter_namespaces(network=cfg["isolate_network"])
    report: dict = {"network": ns["network"]}
    fatal = None
    if ns["pid"] == "yes":
        confine.become_namespace_init(tuple(cfg["fds"]))  # only the worker returns
        report["processes"] = "own PID namespace: its processes end with it"
    else:
        report["processes"] = f"shared with the machine: no PID namespace ({ns['pid']})"
    mounts = ns["mounts"] == "yes"
    report["files"] = f"not confined ({ns['mounts']})"
    if mounts:
        try:
            report["files"] = confine.enter_own_root([(p, w) for p, w in cfg["visible"]], cfg["scratch"],
                                                     limits["fsize_mb"])
        except OSError as exc:
            fatal = f"the worker's filesystem could not be confined ({exc})"

    import torch  # trusted imports, before the drop

    wire = importlib.import_module(f"{pkg}.wire")
    serve = importlib.import_module(f"{pkg}.serve")
    _preimport(cfg["preimport"], forbidden={cfg["package"], pkg})
    torch.set_num_threads(max(1, int(cfg.get("threads", 1))))

    if fatal:
        wire.send(cfg["fds"][1], {"fatal": fatal})
        return
    device = cfg["device"]
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        wire.send(cfg["fds"][1], {"fatal": f"--device {device} was asked for but no CUDA device is available"})
        return
    report["device"] = device
    if device.startswith("cuda"):
        torch.zeros(1, device=device)  # create the context before the drop
        torch.cuda.set_per_process_memory_fraction(limits["gpu_fraction"])
        report["memory"] = f"GPU: {limits['gpu_fraction']:.0%} of the device; host: watched by the grader"
    else:
        limit = confine.limit_address_space(limits["memory_mb"])
        report["memory"] = f"address space {limit >> 20} MiB ({limits['memory_mb']} MiB above the interpreter)"
    confine.start_cpu_limit(limits["cpu_total_s"])

    if was_root and cfg.get("drop_to"):
        uid, gid = cfg["drop_to"]
        routes = confine.open_import_routes(sys.path)
        confine.limit_processes(limits["nproc"])
        confine.drop_privileges(uid, gid)
        confine.reroute_imports(routes)
        report["user"] = f"unprivileged user (uid {uid}, gid {gid}); root privileges dropped"
    else:
        if not was_root and mounts and not confine.lock_mounts():
            report["files"] = "not confined (the mounts could not be locked)"
        report["user"] = "root (privileges not dropped)" if was_root else f"the grader's own user (uid {real_uid})"
    confine.set_parent_death_signal()  # after the drop: changing credentials clears it
    report["uid"] = os.getuid() if was_root else real_uid
    os.chdir(cfg["workdir"])
    sys.path.append(cfg["source_dir"])  # the student's absolute imports of their own modules
    sys.path.append(os.path.dirname(cfg["source_dir"]))

    server = serve.Server(cfg["package"], device, cfg["source_dir"], cfg["origin"], limits["output_chars"],
                          dialect=cfg.get("dialect"), aliases=cfg.get("aliases"))
    req_fd, resp_fd = cfg["fds"]
    wire.send(resp_fd, {"hello": report})
    while True:
        try:
            req = wire.recv(req_fd)
        except EOFError:
            return
        confine.set_cpu_budget(limits["cpu_request_s"], limits["cpu_total_s"])
        answer = server.handle(req)
        try:
            wire.send(resp_fd, answer)
        except Exception as exc:  # an answer torch.save cannot write: say so instead
            wire.send(resp_fd, {"ok": False, "error": {"kind": "result", "type": type(exc).__name__,
                                                       "message": f"the result could not be sent back: {exc}",
                                                       "traceback": ""}, "calls": [], "output": ""})


if __name__ == "__main__":
    main()
