"""Where a run lives: `runs/<experiment>-<time>` at the project root, `--out`, or the run to resume;
and the two header files a run writes first (config.resolved.yaml, run.json's fields).

The Ctrl-C/SIGTERM flag `STOP` lives here too: the CLI's signal handler sets it, the loop reads it
between steps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ahsd_train.errors import RunDirError
from ahsd_train.run import checkpoint as ckpt
from ahsd_train.run import runlog

if TYPE_CHECKING:
    from ahsd_config.schema import TrainingConfig
    from ahsd_train.run.distributed import DistContext
    from ahsd_train.run.setup import Plan, Prepared, RunOptions

# Set by the CLI's SIGINT/SIGTERM handler; the loop stops at the next step boundary.
STOP = threading.Event()
# Set once the run is stopping (the loop acted on STOP, or a second signal stopped it at once):
# from then on signals are ignored, so recording the stop (run.json "interrupted") cannot itself be
# interrupted (a third Ctrl-C there left run.json "running" and said "nothing was started").
STOPPING = threading.Event()


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def runs_root() -> Path:
    """`runs/` at the project root (found like git finds its root), so a run started from a
    subfolder lands where the others are; `runs/` here outside a project."""
    from ahsd_config.input.project import find_project

    project = find_project()
    if project is None:
        return Path("runs")
    try:
        return (project.root / "runs").relative_to(Path.cwd().resolve())
    except ValueError:
        return project.root / "runs"


def default_run_dir(config: TrainingConfig) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return runs_root() / f"{config.experiment_name}-{stamp}"


def choose_run_dir(opts: RunOptions, config: TrainingConfig, ctx: DistContext,
                   held: contextlib.ExitStack | None = None) -> Path:
    """`--out`, or `runs/<experiment>-<time>` (rank 0 decides), or the newest such run on --resume.
    With `held`, rank 0 takes the folder's lock into it before deciding whether the folder is free."""
    if opts.out is not None:
        run_dir = opts.out
    elif opts.resume:
        runs = sorted(runs_root().glob(f"{config.experiment_name}-*"))
        if not runs:
            raise RunDirError(f"--resume: no run of '{config.experiment_name}' under {runs_root()}/; pass --out RUN_DIR")
        run_dir = runs[-1]
    else:
        run_dir = default_run_dir(config)
        if ctx.enabled:
            import torch.distributed

            holder = [str(run_dir)]
            torch.distributed.broadcast_object_list(holder, src=0)
            run_dir = Path(holder[0])
    try:
        str(run_dir).encode("utf-8")
    except UnicodeEncodeError:  # argv bytes that are not UTF-8 arrive as lone surrogates
        raise RunDirError(f"{run_dir}: the path holds bytes that are not UTF-8; TensorBoard and the run's files "
                          "need a UTF-8 path: choose another --out") from None
    check_layout(run_dir)
    if held is not None and ctx.is_main:
        held.enter_context(lock_run_dir(run_dir))
    exists = (run_dir / runlog.RUN_JSON).exists()
    if opts.resume and not ckpt.has_checkpoint(run_dir / runlog.CHECKPOINTS) and not restartable(run_dir):
        raise RunDirError(f"--resume: {run_dir} holds no checkpoint to resume from"
                          + ("" if exists else " and no run.json (is it a run directory?)"))
    if exists and not opts.resume and not opts.force and ctx.is_main:
        raise RunDirError(f"{run_dir} already holds a run; pass --resume to continue it, or another --out")
    return run_dir


@contextlib.contextmanager
def lock_run_dir(run_dir: Path) -> Iterator[None]:
    """Hold `RUN_DIR.lock` (beside the folder, so a refused run leaves no folder behind) for the
    whole run. Two runs into one `--out` both passed the "already holds a run" check before either
    wrote run.json, then interleaved one metrics.jsonl and overwrote each other's checkpoints; the
    second is now refused at once. A killed run's lock file is stale, not held: the next run takes it."""
    from ahsd_config.input.files import LockTimeout, file_lock, make_folder

    lock = contextlib.ExitStack()
    try:  # only taking the lock is translated here: the run's own errors pass through untouched
        make_folder(run_dir.parent)  # the folder the run would make anyway; the lock needs it now
        lock.enter_context(file_lock(run_dir, timeout=0))
    except LockTimeout:
        raise RunDirError(f"{run_dir}: another ahsd-train is writing this folder (lock {run_dir}.lock is "
                          "held); wait for it to end, or pass another --out") from None
    except OSError as exc:
        raise RunDirError(f"{run_dir}: cannot lock the run's folder ({exc.strerror or exc}: {exc.filename}); "
                          "choose another --out") from None
    with lock:
        yield


# What a run folder holds, by kind: a folder in the way of a file (or the reverse) is refused before
# anything is written, not found half-way (run.json already "running", the first checkpoint failing).
LAYOUT = {runlog.RUN_JSON: "file", runlog.RESOLVED: "file", runlog.METRICS: "file", runlog.REPORT: "file",
          runlog.CHECKPOINTS: "folder", "tb": "folder", "plots": "folder"}


def check_layout(run_dir: Path) -> None:
    """RunDirError naming the first entry of the run folder (or the folder itself) of the wrong kind."""
    import stat

    for path, kind in [(run_dir, "folder"), *((run_dir / name, kind) for name, kind in LAYOUT.items())]:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            if path.is_symlink():
                raise RunDirError(f"{path}: a dangling symbolic link where a {kind} is needed") from None
            continue
        except OSError as exc:  # ENOTDIR: a file above it; ELOOP; EACCES
            raise RunDirError(f"{path}: cannot be used as the run's {kind} ({exc.strerror})") from None
        ok = stat.S_ISDIR(mode) if kind == "folder" else stat.S_ISREG(mode)
        if not ok:
            found = "a folder" if stat.S_ISDIR(mode) else "a regular file" if stat.S_ISREG(mode) else "a special file"
            raise RunDirError(f"{path}: {found} where the run needs a {kind}; move it away or choose another --out")


def restartable(run_dir: Path) -> bool:
    """A run interrupted, killed or failed before its first checkpoint: --resume starts it again there."""
    try:
        status = runlog.read_json(run_dir / runlog.RUN_JSON).get("status")
    except Exception:  # noqa: BLE001 - a missing or unreadable run.json is simply not restartable
        return False
    return status in ("interrupted", "running", "failed")


def resolved_yaml(p: Prepared) -> str:
    """config.resolved.yaml: what actually ran, with where it came from in the header."""
    header = (f"# resolved config: {p.path}\n# revision: {p.revision}\n# sha256 of the file: {p.sha256}\n"
              + ("# --force: run despite error findings (see run.json)\n" if p.forced else ""))
    # python mode: int mapping keys stay ints (JSON mode wrote per_param_tail_bounds keys as strings)
    return header + runlog.dump_yaml(p.config.model_dump(mode="python"))


def run_info(status: str, opts: RunOptions, p: Prepared, plan: Plan, config_json: str, device: Any,
             world_size: int, has_batchnorm: bool, started: str | None, extra: dict | None = None) -> dict:
    """run.json's fields, in the order PRODUCT.md lists them."""
    import torch

    return {
        "status": status, "command": list(opts.argv), "config_path": p.path,
        "revision": p.revision, "sha256": p.sha256,
        "resolved_sha256": hashlib.sha256(config_json.encode()).hexdigest(),
        "forced": p.forced, "warnings": p.warnings, "findings": p.findings, "plan": json.loads(plan.to_json()),
        "device": str(device), "world_size": world_size,
        "torch": torch.__version__, "has_batchnorm": has_batchnorm,
        "started": started, **(extra or {}),
    }
