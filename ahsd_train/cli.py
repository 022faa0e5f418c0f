"""`ahsd-train`: a thin shell over the library (`trainer.run`, `doctor.diagnose`, `bench.run_benchmark`).

Each command parses, calls the library, renders, and returns an exit code. `reports_errors` is the
ONE place where the error families (`AhsdTrainError`, `AhsdConfigError` incl. `ConfigInvalid`) become
messages on stderr and exit codes; nothing else is caught, and bad input is never a traceback.

Exit codes (PRODUCT.md): 0 clean; 1 the run was stopped by the health monitor, or `doctor` found a
FAIL row in the checklist; 2 usage error, unreadable or invalid input, a config that may not run,
a refused resume, the `train` extra not installed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ahsd_config.cli.shell import safe_text
from ahsd_config.errors import one_line as _flat
from ahsd_config.errors import AhsdConfigError, ConfigInvalid, from_os_error
from ahsd_train.signals import RECEIVED, after_imports
from ahsd_train.errors import AhsdTrainError
from ahsd_train.run.observer import Observer

if TYPE_CHECKING:
    from ahsd_train.run.records import EpochRecord, StepRecord

app = typer.Typer(
    name="ahsd-train",
    help="Train PriorityNet with pre-run checks, a health monitor and resumable checkpoints.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
# What `pip install ahsd` lacks and `pip install 'ahsd[train]'` brings (pyproject.toml's extra).
TRAIN_EXTRA = frozenset({"torch", "numpy", "scipy", "safetensors", "tensorboard", "matplotlib"})
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., object])


def render_findings(exc: ConfigInvalid) -> str:
    """`path:line:col CODE severity message` + an indented hint line, per finding."""
    lines = []
    for report in exc.reports:
        path = getattr(report, "path", "?")
        error = getattr(report, "error", None)
        if error is not None:
            lines.append(f"{path}:{error.line}:{error.column}: error: {error.message}")
        for f in getattr(report, "findings", ()):
            if f.severity == "info":  # `ahsd-config validate` shows those; here only what blocks or warns
                continue
            lines.append(f"{path}:{f.line}:{f.column} {f.code} {f.severity} {f.message}")
            if f.hint:
                lines.append(f"    hint: {f.hint}")
    n = sum(1 for r in exc.reports for f in getattr(r, "findings", ()) if f.severity == "error")
    where = ", ".join(str(getattr(r, "path", "?")) for r in exc.reports) or "the config"
    lines.append(f"{where}: {n} error finding(s); the run was not started "
                 "(fix them, or pass --force to run anyway)")
    return "\n".join(lines)


def reports_errors(func: F) -> F:
    """The one translation of the package error families into stderr messages and exit codes."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return translated(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:
            # native code (pydantic-core building a validator, torch) turns the KeyboardInterrupt of
            # a Ctrl-C into its own error: after a signal, any error is the interruption
            if not RECEIVED.is_set():
                raise
            stderr.print(one_line(f"error: interrupted ({type(exc).__name__} on the way out); nothing more "
                                  "was done: run the same command again"), markup=False)
            raise typer.Exit(130) from None

    def translated(*args, **kwargs):
        try:
            code = func(*args, **kwargs)
        except ConfigInvalid as exc:
            stderr.print(render_findings(exc), markup=False)
            raise typer.Exit(exc.exit_code) from None
        except AhsdConfigError as exc:
            stderr.print(one_line(exc.render()), markup=False)
            raise typer.Exit(exc.exit_code) from None
        except AhsdTrainError as exc:
            stderr.print(one_line(f"error: {exc.message}"), markup=False)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a read-only folder, a full disk, --out on a file: one line
            stderr.print(one_line(from_os_error(exc).render()), markup=False)
            raise typer.Exit(2) from None
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in TRAIN_EXTRA:
                raise
            stderr.print(f"error: ahsd-train needs the training extra ({exc.name} is not installed): "
                         "pip install 'ahsd[train]'", markup=False)
            raise typer.Exit(2) from None
        except (MemoryError, RuntimeError) as exc:  # the allocator's refusal, wherever a size reached it
            message = out_of_memory(exc)
            if message is None:
                raise
            stderr.print(one_line(f"error: {message}"), markup=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:  # before a run started (a run raises RunInterrupted instead)
            stderr.print("interrupted; nothing was started", markup=False)
            raise typer.Exit(130) from None
        raise typer.Exit(code or 0)

    return wrapper  # type: ignore[return-value]


def one_line(text: str) -> str:
    """An error as the one line it promises to be: newlines as `\\n`, control characters escaped."""
    return safe_text(_flat(text))


# The most any count option takes (--epochs, --scenarios, --batch-size, ...): past any machine's
# memory or lifetime, and far inside torch's int64 once sizes multiply (--batch-size 1e23 reached
# torch.rand as "Overflow when unpacking long long", a traceback). Anything below it that a machine
# cannot hold is refused by the preflight or the allocator's one line.
MOST = 2**40


def out_of_memory(exc: BaseException) -> str | None:
    """One line for an allocation the machine refused (Python's MemoryError, torch's CPU allocator,
    CUDA's OutOfMemoryError, a C++ bad_alloc); None for any other error, which is not ours to word."""
    import re

    text = " ".join(str(exc).split())
    if not (isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError"
            or "can't allocate memory" in text or "std::bad_alloc" in text):
        return None
    asked = re.search(r"allocate (\d+) bytes", text)
    size = f" ({int(asked.group(1)) / 2**30:,.1f} GiB asked for at once)" if asked else ""
    return (f"out of memory{size}: a size from the command line or the config is too large for this machine; "
            "lower it (--batch-size, --scenarios, data.synthetic.*, priority_net widths)")


# --- run ---------------------------------------------------------------------------------------


class RichObserver(Observer):
    """Per-epoch step bar (only on a terminal, see ahsd_train.progress) with live loss, grad norm
    and scenarios/s; spinners for data and evaluation; warnings and epoch lines above the bars."""

    def __init__(self, progress) -> None:
        self.progress = progress
        self.bar = None
        self.steps_per_epoch, self.epochs, self.bar_epoch = 0, 0, -1

    def warn(self, message: str) -> None:
        self.progress.print(f"warning: {message}")

    def info(self, message: str) -> None:
        self.progress.print(message)

    def start(self, run_dir: Path, total_steps: int, done_steps: int, steps_per_epoch: int = 0) -> None:
        self.steps_per_epoch = steps_per_epoch

    def step(self, record: StepRecord) -> None:
        if not self.progress.enabled:
            return
        status = f"loss {record.loss:.4g}  grad {record.grad_norm:.3g}  {record.scenarios_per_s:.0f} scen/s"
        if record.epoch != self.bar_epoch:  # a new epoch: the bar restarts (a resume mid-epoch too)
            self.bar_epoch = record.epoch
            if self.bar is None:
                self.bar = self.progress.open(f"epoch {record.epoch + 1}", total=self.steps_per_epoch)
            self.bar.reset(self.steps_per_epoch, completed=record.batch, description=f"epoch {record.epoch + 1}")
        self.bar.update(completed=record.batch + 1, status=status)

    def epoch(self, record: EpochRecord) -> None:
        if self.bar is not None:
            self.bar.flush()  # the epoch's last step, whatever the throttle held back
        tau = record.val.get("kendall_tau")
        self.progress.print(f"epoch {record.epoch + 1}: train loss {_fmt(record.train_loss)}  "
                            f"val loss {_fmt(record.val_loss)}  grad {_fmt(record.grad_norm_mean)}  "
                            f"lr {record.lr:.3g}  val tau {_fmt(tau)}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


WIDE_TABLE = 120  # below this the "why" column would fold dotted key names: reasons go under the table


def checklist_table(report: dict[str, Any], width: int | None = None) -> Table:
    from ahsd_train.run.report import CHECKLIST_TITLES

    why = (width or stdout.width) >= WIDE_TABLE
    table = Table(title="Verification checklist (seed note, Nov 15 2025)")
    for col in ("check", "result", "value", "threshold", *(("why",) if why else ())):
        table.add_column(col, overflow="fold")  # fold, never crop with an ellipsis
    for item in report["checklist"]:
        table.add_row(CHECKLIST_TITLES.get(item["name"], item["name"]),
                      "[green]PASS[/]" if item["passed"] else "[red]FAIL[/]",
                      _fmt(item["value"]), _fmt(item["threshold"]), *((item.get("reason", ""),) if why else ()))
    return table


def print_checklist(report: dict[str, Any]) -> None:
    """The table; on a narrow terminal each reason as its own line under it (key names whole)."""
    from ahsd_train.run.report import CHECKLIST_TITLES

    stdout.print(checklist_table(report))
    if stdout.width < WIDE_TABLE:
        for item in report["checklist"]:
            stdout.print(f"- {CHECKLIST_TITLES.get(item['name'], item['name'])}: {item.get('reason', '')}",
                         markup=False)


def metrics_table(metrics: dict[str, Any]) -> Table:
    from ahsd_train.run.report import baseline_rows

    table = Table(title=f"Final metrics ({metrics.get('split', 'val')} split) vs sort-by-SNR baseline")
    for col in ("metric", "PriorityNet", "SNR baseline"):
        table.add_column(col)
    for key, model, base in baseline_rows(metrics):
        table.add_row(key, _fmt(model), _fmt(base))
    return table


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else ("-" if v is None else str(v))


@contextlib.contextmanager
def _signals_stop_the_run():
    """Ctrl-C and SIGTERM (a scheduler's kill, `timeout`) ask the run to stop at the next step
    boundary, where nothing is half-done (a checkpoint save, the metrics and TensorBoard writers);
    run.json then says "interrupted". A second signal stops at once; any later one is ignored
    while the stop is recorded (rundir.STOPPING). The previous handlers are
    restored afterwards (tests drive this command in-process)."""
    import signal

    from ahsd_train.run.rundir import STOP, STOPPING

    def ask(signum, frame):
        if STOPPING.is_set():  # already stopping: let it record the stop
            return
        if STOP.is_set():
            STOPPING.set()
            raise KeyboardInterrupt
        STOP.set()

    STOP.clear()
    STOPPING.clear()
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: leave the defaults
            saved[sig] = signal.signal(sig, after_imports(ask))
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        STOP.clear()  # the flags belong to this run: a later run in the process (compare, tests) starts clean
        STOPPING.clear()


def default_config(short: bool) -> Path:
    """`run` without --config: the project's `[tool.ahsd] default_config`, found from anywhere inside
    the project. Only for runs whose length the command line states (--quick, --epochs, --max-steps,
    --resume): a full-length run (the project's 100 epochs) is started only with its config named,
    so a bare `ahsd-train run` never starts hours of training by surprise."""
    from ahsd_config.input.project import require_project

    project = require_project(needs="pass --config PATH")
    path = project.default_config
    shown = Path(os.path.relpath(path))  # as the user would type it from here (inside the project)
    if not short:
        raise AhsdTrainError(f"no --config: a full run of the project's default config ({shown}) is "
                             f"started only when named; pass --config {shown} (or --quick for a "
                             f"2-epoch demonstration, --epochs N for a shorter run)")
    return shown


@app.command("run")
@reports_errors
def run_command(
    config: Optional[Path] = typer.Option(
        None, "--config", metavar="PATH",
        help="Training YAML (default: [tool.ahsd] default_config of the project above the working "
             "directory, for --quick, --epochs, --max-steps or --resume; a full run names its config)."),
    device: Optional[str] = typer.Option(None, "--device", metavar="auto|cuda|cpu",
                                         help="Where to train (default: the config's `device`)."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                       help="Run directory (default: runs/EXPERIMENT-TIME at the project root)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (or the newest one)."),
    quick: bool = typer.Option(False, "--quick", help="A short demonstration: a few hundred scenarios, 2 epochs."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                   help="Override a key, repeatable: --set priority_net.batch_size=24."),
    force: bool = typer.Option(False, "--force", help="Run despite error findings / a changed config on resume."),
    data: Optional[Path] = typer.Option(None, "--data", metavar="DIR", help="Train on a shard directory instead of synthetic data."),
    create_overlaps: Optional[bool] = typer.Option(None, "--create-overlaps/--no-create-overlaps",
                                                   help="Synthetic scenarios with overlapping signals (default: config)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1, max=MOST, metavar="N",
                                         help="Train for N epochs instead of the config's."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, max=MOST, metavar="N", help="Stop after N optimizer steps."),
    checkpoint_every_steps: Optional[int] = typer.Option(None, "--checkpoint-every-steps", min=1, max=MOST, metavar="N",
                                                         help="Also checkpoint every N steps."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars (they only show on a terminal anyway)."),
) -> int:
    """Validate the config, then train PriorityNet and write the run directory and report.json."""
    from ahsd_train.run.observer import hooks_from_env
    from ahsd_train.run.progress import make_progress
    from ahsd_train.run.setup import RunOptions, prepare

    if device is not None and device not in ("auto", "cuda", "cpu"):
        raise AhsdTrainError(f"--device {device!r}: use auto, cuda or cpu")
    if config is None:
        config = default_config(short=quick or resume or epochs is not None or max_steps is not None)
    opts = RunOptions(config, tuple(set_), device, out, resume, quick, force, data,
                              create_overlaps, epochs, max_steps, checkpoint_every_steps,
                              argv=tuple(sys.argv))
    prepared = prepare(opts)  # a config that may not run is refused before torch loads (~2 s a refusal)
    from ahsd_train.run import trainer

    progress = make_progress(quiet)
    try:
        with _signals_stop_the_run():
            result = trainer.run(opts, RichObserver(progress), hooks_from_env(), prepared=prepared)
    finally:
        progress.close()
    if result.report:
        print_checklist(result.report)
        stdout.print(metrics_table(result.report["metrics"]))
        stdout.print(f"report: {result.run_dir / 'report.json'}", markup=False)
    if result.stopped:
        stderr.print(f"stopped: {result.stop_reason}", markup=False)
        return 1
    return 0


# --- doctor ------------------------------------------------------------------------------------


@app.command("doctor")
@reports_errors
def doctor_command(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A run directory (finished or crashed)."),
    propose_migration: bool = typer.Option(False, "--propose-migration",
                                           help="Write the suggested fixes as a draft revision file."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="DIR|FILE.yaml",
                                       help="Where the draft goes (default: the run directory; accept it by "
                                       "writing each rationale and moving it into migrations/)."),
    parent: Optional[str] = typer.Option(None, "--parent", metavar="REV",
                                         help="Revision the draft builds on (default: the chain's head)."),
) -> int:
    """Print the checklist of a run and, when gradients ran high, the seed's next fixes in order.

    Exit 0 when every checklist row passes, 1 when any row FAILs (so a script can branch on it),
    2 when RUN_DIR is not a run directory."""
    from ahsd_train.review import doctor

    diagnosis = doctor.diagnose(run_dir)
    for note in diagnosis.notes:
        stdout.print(f"note: {note}", markup=False)
    print_checklist(diagnosis.report)
    if diagnosis.report.get("stop_reason"):
        stdout.print(f"stopped: {diagnosis.report['stop_reason']}", markup=False)
    for i, fix in enumerate(diagnosis.fixes, 1):
        stdout.print(f"{i}. {fix.text}", markup=False)
    if not diagnosis.fixes:
        stdout.print("gradients within limits: no escalation needed", markup=False)
    if propose_migration and not diagnosis.fixes:
        stdout.print("no draft written: nothing to escalate", markup=False)
    elif propose_migration:
        path = doctor.propose_migration(diagnosis, out, parent)
        for note in doctor.draft_notes(diagnosis, doctor.load_draft(path)):
            stdout.print(f"note: {note}", markup=False)
        stdout.print(f"draft revision written: {path}; write each rationale, then move it into "
                     "migrations/ to accept it", markup=False)
    return 0 if all(item["passed"] for item in diagnosis.report["checklist"]) else 1


# --- evaluate ----------------------------------------------------------------------------------


@app.command("evaluate")
@reports_errors
def evaluate_command(
    run_dirs: List[Path] = typer.Argument(..., help="Finished run directories (one table row each)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line: {run: metrics} instead of the table."),
) -> int:
    """The benchmark table of finished runs: detectable-signal tau, paired gain over SNR-sort, CIs."""
    from ahsd_train.review.evaluate import evaluate_runs

    runs, table = evaluate_runs(run_dirs)
    if as_json:
        print(json.dumps({r.name: r.metrics for r in runs}, separators=(",", ":")))
    else:
        print(table)
    return 0


# --- compare -----------------------------------------------------------------------------------


@app.command("compare")
@reports_errors
def compare_command(
    a: str = typer.Argument(..., metavar="A", help="Revision (v15d, head), file, or GITREV:path."),
    b: str = typer.Argument(..., metavar="B", help="Revision, file, or GITREV:path."),
    epochs: int = typer.Option(5, "--epochs", min=1, max=MOST, metavar="N", help="Epochs for both runs."),
    scenarios: int = typer.Option(2048, "--scenarios", min=8, max=MOST, metavar="N",
                                  help="Synthetic scenarios for both runs (same seed: the same data)."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="DIR", help="Folder for both runs, compare.json "
                                       "and compare.png (default runs/compare-A-B-TIME)."),
    device: str = typer.Option("cpu", "--device", metavar="auto|cuda|cpu", help="Where both runs train."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="Override a key on both sides."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line (PRODUCT.md contract)."),
) -> int:
    """Train A and B on the same data, seed and budget; checklists side by side, differing keys, one plot.

    Exit 0 when both ran (whatever their checklists say), 2 on bad input."""
    from ahsd_train.review.compare import compare

    if device not in ("auto", "cuda", "cpu"):
        raise AhsdTrainError(f"--device {device!r}: use auto, cuda or cpu")
    with _signals_stop_the_run():  # as `run`: each side's run.json ends "interrupted", never "running"
        result = compare(a, b, epochs=epochs, scenarios=scenarios, out=out, device=device,
                         observer=None if as_json else CompareObserver(), overrides=tuple(set_))
    if as_json:
        print(json.dumps(runlog_safe(result.to_json()), separators=(",", ":")))
        return 0
    stdout.print(compare_table(result), markup=False)
    stdout.print(f"keys that differ ({len(result.changes)}, from ahsd-config diff {a} {b}):", markup=False)
    for c in result.changes:
        stdout.print(f"  {c['key']}: {c['old']!s} -> {c['new']!s}", markup=False)
    for note in result.notes:
        stdout.print(f"note: {note}", markup=False)
    stdout.print(f"plot: {result.plot}", markup=False)
    return 0


class CompareObserver(Observer):
    """Epoch lines of both runs on stderr (warnings and the config findings go there too).
    A subclass of the loop's Observer, so a call the loop gains exists here too (compare without
    --json died on `obs.info`, then on `obs.progress`, then on start's fourth argument)."""

    def warn(self, message: str) -> None:
        stderr.print(f"warning: {message}", markup=False)

    def info(self, message: str) -> None:
        stderr.print(message, markup=False)

    def start(self, run_dir: Path, total_steps: int, done_steps: int, steps_per_epoch: int = 0) -> None:
        self.name = run_dir.name
        stderr.print(f"{run_dir.name}: {total_steps} steps", markup=False)

    def step(self, record: StepRecord) -> None: ...

    def epoch(self, record: EpochRecord) -> None:
        stderr.print(f"{self.name} epoch {record.epoch + 1}: train loss {_fmt(record.train_loss)}  "
                     f"grad {_fmt(record.grad_norm_mean)}", markup=False)

    def close(self) -> None: ...


def runlog_safe(data: Any) -> Any:
    from ahsd_train.run.runlog import to_json_safe

    return to_json_safe(data)


def compare_table(result) -> Table:
    from ahsd_train.run.report import CHECKLIST_TITLES

    table = Table(title="Verification checklist, A vs B (same data, seed and budget)")
    table.add_column("check", overflow="fold")
    for label, side in (("A", result.a), ("B", result.b)):
        table.add_column(f"{label}: {side.side.spec}", overflow="fold")
    table.add_column("threshold A / B", overflow="fold")
    items_b = {i["name"]: i for i in result.b.report["checklist"]}
    for ia in result.a.report["checklist"]:
        ib = items_b.get(ia["name"], {})
        cell = lambda i: f"{'PASS' if i.get('passed') else 'FAIL'} {_fmt(i.get('value'))}"  # noqa: E731
        table.add_row(CHECKLIST_TITLES.get(ia["name"], ia["name"]), cell(ia), cell(ib),
                      f"{_fmt(ia['threshold'])} / {_fmt(ib.get('threshold'))}")
    table.add_row("all passed", str(result.a.report.get("passed")), str(result.b.report.get("passed")), "")
    return table


# --- bench -------------------------------------------------------------------------------------


@app.command("bench")
@reports_errors
def bench_command(
    device: str = typer.Option("cpu", "--device", metavar="cpu|cuda", help="Where to measure."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line (PRODUCT.md contract)."),
    batch_size: int = typer.Option(24, "--batch-size", min=1, max=MOST, metavar="N", help="Scenarios per step."),
    with_strain: bool = typer.Option(False, "--with-strain", help="Include the strain encoder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars (they only show on a terminal anyway)."),
) -> int:
    """Train and inference throughput: batched vs the naive per-scenario loop, same run."""
    from ahsd_train.review.bench import run_benchmark
    from ahsd_train.run.progress import make_progress

    if device not in ("cpu", "cuda"):
        raise AhsdTrainError(f"--device {device!r}: use cpu or cuda")
    progress = make_progress(quiet)
    try:
        result = run_benchmark(device=device, batch_size=batch_size, with_strain=with_strain, progress=progress)
    finally:
        progress.close()
    if as_json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        table = Table(title=f"ahsd-train bench ({device}, batch {batch_size})")
        table.add_column("measure"); table.add_column("value")
        for k, v in result.items():
            table.add_row(k, _fmt(v))
        stdout.print(table)
    return 0


# --- data ------------------------------------------------------------------------------------

data_app = typer.Typer(help="Scenario datasets on disk (safetensors shards that `run --data DIR` trains on).",
                       no_args_is_help=True, rich_markup_mode=None)
app.add_typer(data_app, name="data")


@data_app.command("generate")
@reports_errors
def data_generate_command(
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Dataset folder (created; a rerun resumes it)."),
    scenarios: int = typer.Option(..., "--scenarios", min=1, max=MOST, metavar="N", help="Scenarios to write."),
    physics: bool = typer.Option(False, "--physics",
                                 help="Real waveforms (IMRPhenomXAS), H1/L1/V1 antenna patterns and delays, design-PSD "
                                      "noise, matched-filter SNRs (needs the physics extra: pip install 'ahsd[physics]')."),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="S", min=0, max=2**32 - 1,  # random_seed's range
                                       help="Population and noise seed, 0 .. 2**32-1 (default: the config's random_seed)."),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", min=1, max=MOST, metavar="W",
                                help="Worker processes (--physics; at most the CPUs this process may use; the bytes do not depend on it)."),
    shard_size: int = typer.Option(64, "--shard-size", min=1, max=MOST, metavar="N", help="Scenarios per shard file."),
    window_seconds: Optional[float] = typer.Option(None, "--window-seconds", metavar="S",
                                                   help="--physics: strain window per signal, seconds (default 4)."),
    window_rate: Optional[int] = typer.Option(None, "--window-rate", max=MOST, metavar="HZ",
                                              help="--physics: the window's sample rate (default 512; samples = seconds x rate)."),
    config: Optional[Path] = typer.Option(None, "--config", metavar="PATH",
                                          help="Config whose data section sets the population (default: the project's default_config)."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="Override a config key, repeatable."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar (it only shows on a terminal anyway)."),
) -> int:
    """Write N scenarios as shards: the analytic generator's, or with --physics LALSuite's (parallel, resumable)."""
    from ahsd_config.api import load_config
    from ahsd_train.run.progress import make_progress
    from ahsd_train.run.rundir import lock_run_dir

    if physics:
        from ahsd_train.engine.physics import require_lal

        require_lal()  # before the config is read: the missing extra is the first thing to say
    cfg = load_config(config or default_config(short=True), tuple(set_)).config
    progress = make_progress(quiet)
    try:
        with _signals_interrupt(), _interrupted_generation(out, physics), lock_run_dir(out):  # one writer per folder
            _generate(cfg, out, scenarios, physics, seed, workers, shard_size, window_seconds, window_rate, progress)
    finally:
        progress.close()
    return 0


@contextlib.contextmanager
def _signals_interrupt():
    """SIGTERM (a scheduler's kill, `timeout`) interrupts like Ctrl-C: workers stop, kept shards stay."""
    import signal

    saved = None
    with contextlib.suppress(ValueError):  # not the main thread: leave the default
        saved = signal.signal(signal.SIGTERM, after_imports(signal.default_int_handler))
    try:
        yield
    finally:
        if saved is not None:
            signal.signal(signal.SIGTERM, saved)


@contextlib.contextmanager
def _interrupted_generation(out: Path, physics: bool):
    """An interrupted `data generate` says what is on disk and how to finish (not "nothing was started")."""
    from ahsd_train.errors import RunInterrupted

    try:
        yield
    except KeyboardInterrupt:
        finish = ("the shards written so far are kept; the same command finishes the dataset" if physics else
                  "it holds no manifest, so it is not a dataset yet; run the same command again")
        raise RunInterrupted(f"interrupted: {out}: {finish}") from None


def _generate(cfg, out: Path, scenarios: int, physics: bool, seed: int | None, workers: int, shard_size: int,
              window_seconds: float | None, window_rate: int | None, progress) -> None:
    """The analytic generator's shards, or LALSuite's (parallel, resumable), into `out`."""
    if physics:
        from ahsd_train.engine.physics.generate import generate_physics

        with progress.task("physics scenarios", total=scenarios) as bar:
            result = generate_physics(cfg, scenarios, out, seed=seed, workers=workers, shard_size=shard_size,
                                      window_seconds=window_seconds, window_rate=window_rate,
                                      on_progress=lambda done, status: bar.update(completed=done, status=status))
        stdout.print(f"{result.n_scenarios} physics scenarios in {result.n_shards} shard(s) in {result.out} "
                     f"({result.kept} kept from an earlier run, {result.written} written)", markup=False)
    else:
        if window_seconds is not None or window_rate is not None:
            raise AhsdTrainError("--window-seconds and --window-rate shape the --physics strain; add --physics")
        from ahsd_train.engine.data import SyntheticScenarioSource
        from ahsd_train.engine.shards import write_shards

        with progress.task("analytic scenarios"):
            source = SyntheticScenarioSource(cfg.data, cfg.priority_net, cfg.random_seed if seed is None else seed)
            manifest = write_shards(source.generate(scenarios), out, shard_size)
        stdout.print(f"{scenarios} analytic scenarios in {manifest.parent}", markup=False)


def _version(value: bool) -> None:
    if value:
        from ahsd_config.cli.shell import package_version

        typer.echo(f"ahsd-train {package_version()}")
        raise typer.Exit()


@app.callback()
def global_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Train PriorityNet with pre-run checks, a health monitor and resumable checkpoints."""


def main() -> None:
    # Idle OpenMP threads sleep instead of spinning: PriorityNet's ops are small, and on a shared
    # 2-core box spinning threads halved the --quick run's speed. Set it yourself to override.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    empty = empty_argument(sys.argv[1:])
    if empty is not None:
        stderr.print(one_line(f"error: {empty}"), markup=False)
        raise SystemExit(2)
    plain_help(app)  # again: commands registered after this module was imported get it too
    app(prog_name="ahsd-train")


def empty_argument(args: list[str]) -> str | None:
    """What is empty among the arguments, or None. Every ahsd-train argument is a path, a number or
    a KEY=VALUE, and Typer reads an empty path as `.`: `run --out ""` trained into the working
    folder, `data generate --out ""` wrote shards there, `doctor ""` looked at it."""
    for i, arg in enumerate(args):
        if arg == "":
            option = args[i - 1] if i and args[i - 1].startswith("-") else None
            return (f"{option}: the value is empty" if option else "an argument is empty") + \
                " (an empty path would mean the working folder); give a value"
        if arg.startswith("--") and arg.endswith("=") and arg.count("=") == 1:
            return f"{arg[:-1]}: the value is empty (an empty path would mean the working folder); give a value"
    return None


from ahsd_config.cli.help import plain_help  # noqa: E402  (after the commands are registered)

plain_help(app)

if __name__ == "__main__":  # pragma: no cover
    main()
