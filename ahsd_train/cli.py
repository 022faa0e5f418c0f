"""`ahsd-train`: a thin shell over the library (`trainer.run`, `doctor.diagnose`, `bench.run_benchmark`).

Each command parses, calls the library, renders, and returns an exit code. `reports_errors` is the
ONE place where the error families (`AhsdTrainError`, `AhsdConfigError` incl. `ConfigInvalid`) become
messages on stderr and exit codes; nothing else is caught, and bad input is never a traceback.

Exit codes (PRODUCT.md): 0 clean; 1 the run was stopped by the health monitor; 2 usage error,
unreadable or invalid input, a config that may not run, a refused resume.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ahsd_config.errors import AhsdConfigError, ConfigInvalid
from ahsd_train.errors import AhsdTrainError

app = typer.Typer(
    name="ahsd-train",
    help="Train PriorityNet with pre-run checks, a health monitor and resumable checkpoints.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
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
            code = func(*args, **kwargs)
        except ConfigInvalid as exc:
            stderr.print(render_findings(exc), markup=False)
            raise typer.Exit(exc.exit_code) from None
        except AhsdConfigError as exc:
            stderr.print(exc.render(), markup=False)
            raise typer.Exit(exc.exit_code) from None
        except AhsdTrainError as exc:
            stderr.print(f"error: {exc.message}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            stderr.print("interrupted: the last checkpoint is kept; continue with the same command "
                         "plus --resume --out RUN_DIR", markup=False)
            raise typer.Exit(130) from None
        raise typer.Exit(code or 0)

    return wrapper  # type: ignore[return-value]


# --- run ---------------------------------------------------------------------------------------


class RichObserver:
    """Progress bar (only on a terminal) with live loss, grad norm and scenarios/s; warnings to stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = None
        self.task = None

    def warn(self, message: str) -> None:
        stderr.print(f"warning: {message}", markup=False)

    def start(self, run_dir: Path, total_steps: int, done_steps: int) -> None:
        stderr.print(f"run directory: {run_dir}", markup=False)
        if not self.enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]}  grad {task.fields[grad]}  "
                                            "{task.fields[speed]} scen/s"), TimeElapsedColumn(),
                                 console=stderr, transient=False)
        self.progress.start()
        self.task = self.progress.add_task("train", total=total_steps, completed=done_steps,
                                           epoch=0, loss="-", grad="-", speed="-")

    def step(self, record: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, epoch=record["epoch"] + 1,
                                 loss=f"{record['loss']:.4g}", grad=f"{record['grad_norm']:.3g}",
                                 speed=f"{record['scenarios_per_s']:.0f}")

    def epoch(self, record: dict[str, Any]) -> None:
        tau = record.get("val", {}).get("kendall_tau")
        line = (f"epoch {record['epoch'] + 1}: train loss {_fmt(record['train_loss'])}  "
                f"val loss {_fmt(record['val_loss'])}  grad {_fmt(record['grad_norm_mean'])}  "
                f"lr {record['lr']:.3g}  val tau {_fmt(tau)}")
        (self.progress.console if self.progress else stderr).print(line, markup=False)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def checklist_table(report: dict[str, Any]) -> Table:
    from ahsd_train.report import CHECKLIST_TITLES

    table = Table(title="Verification checklist (seed note, Nov 15 2025)")
    for col in ("check", "result", "value", "threshold", "why"):
        table.add_column(col)
    for item in report["checklist"]:
        table.add_row(CHECKLIST_TITLES.get(item["name"], item["name"]),
                      "[green]PASS[/]" if item["passed"] else "[red]FAIL[/]",
                      _fmt(item["value"]), _fmt(item["threshold"]), item.get("reason", ""))
    return table


def metrics_table(metrics: dict[str, Any]) -> Table:
    from ahsd_train.report import baseline_rows

    table = Table(title=f"Final metrics ({metrics.get('split', 'val')} split) vs sort-by-SNR baseline")
    for col in ("metric", "PriorityNet", "SNR baseline"):
        table.add_column(col)
    for key, model, base in baseline_rows(metrics):
        table.add_row(key, _fmt(model), _fmt(base))
    return table


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else ("-" if v is None else str(v))


@app.command("run")
@reports_errors
def run_command(
    config: Path = typer.Option(Path("configs/enhanced_training.yaml"), "--config", help="Training YAML."),
    device: Optional[str] = typer.Option(None, "--device", help="auto | cuda | cpu (default: the config's)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default runs/<experiment>-<time>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (or the newest one)."),
    quick: bool = typer.Option(False, "--quick", help="A short demonstration: a few hundred scenarios, 2 epochs."),
    set_: List[str] = typer.Option([], "--set", help="Override a key: --set priority_net.batch_size=24."),
    force: bool = typer.Option(False, "--force", help="Run despite error findings / a changed config on resume."),
    data: Optional[Path] = typer.Option(None, "--data", help="Train on a shard directory instead of synthetic data."),
    create_overlaps: Optional[bool] = typer.Option(None, "--create-overlaps/--no-create-overlaps",
                                                   help="Synthetic scenarios with overlapping signals (default: config)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1, help="Train for N epochs (run option)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Stop after N optimizer steps."),
    checkpoint_every_steps: Optional[int] = typer.Option(None, "--checkpoint-every-steps", min=1,
                                                         help="Also checkpoint every N steps."),
) -> int:
    """Validate the config, then train PriorityNet and write the run directory and report.json."""
    from ahsd_train import trainer

    if device is not None and device not in ("auto", "cuda", "cpu"):
        raise AhsdTrainError(f"--device {device!r}: use auto, cuda or cpu")
    opts = trainer.RunOptions(config, tuple(set_), device, out, resume, quick, force, data,
                              create_overlaps, epochs, max_steps, checkpoint_every_steps,
                              argv=tuple(sys.argv))
    result = trainer.run(opts, RichObserver(stderr.is_terminal), trainer.hooks_from_env())
    if result.report:
        stdout.print(checklist_table(result.report))
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
    run_dir: Path = typer.Argument(..., help="A run directory (finished or crashed)."),
    propose_migration: bool = typer.Option(False, "--propose-migration",
                                           help="Write the suggested fixes as a draft revision file."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where the draft goes (default migrations/)."),
) -> int:
    """Print the checklist of a run and, when gradients ran high, the seed's next fixes in order."""
    from ahsd_train import doctor

    diagnosis = doctor.diagnose(run_dir)
    stdout.print(checklist_table(diagnosis.report))
    if diagnosis.report.get("stop_reason"):
        stdout.print(f"stopped: {diagnosis.report['stop_reason']}", markup=False)
    for i, fix in enumerate(diagnosis.fixes, 1):
        stdout.print(f"{i}. {fix.text}", markup=False)
    if not diagnosis.fixes:
        stdout.print("gradients within limits: no escalation needed", markup=False)
    if propose_migration:
        path = doctor.propose_migration(diagnosis, out)
        stdout.print(f"draft revision written: {path} (fill in each rationale)", markup=False)
    return 0


# --- evaluate ----------------------------------------------------------------------------------


@app.command("evaluate")
@reports_errors
def evaluate_command(
    run_dirs: List[Path] = typer.Argument(..., help="Finished run directories (one table row each)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line: {run: metrics} instead of the table."),
) -> int:
    """The benchmark table of finished runs: detectable-signal tau, paired gain over SNR-sort, CIs."""
    from ahsd_train.evaluate import evaluate_runs

    runs, table = evaluate_runs(run_dirs)
    if as_json:
        print(json.dumps({r.name: r.metrics for r in runs}, separators=(",", ":")))
    else:
        print(table)
    return 0


# --- bench -------------------------------------------------------------------------------------


@app.command("bench")
@reports_errors
def bench_command(
    device: str = typer.Option("cpu", "--device", help="cpu | cuda"),
    as_json: bool = typer.Option(False, "--json", help="One JSON line (PRODUCT.md contract)."),
    batch_size: int = typer.Option(24, "--batch-size", min=1),
    with_strain: bool = typer.Option(False, "--with-strain", help="Include the strain encoder."),
) -> int:
    """Train and inference throughput: batched vs the naive per-scenario loop, same run."""
    from ahsd_train.bench import run_benchmark

    if device not in ("cpu", "cuda"):
        raise AhsdTrainError(f"--device {device!r}: use cpu or cuda")
    result = run_benchmark(device=device, batch_size=batch_size, with_strain=with_strain)
    if as_json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        table = Table(title=f"ahsd-train bench ({device}, batch {batch_size})")
        table.add_column("measure"); table.add_column("value")
        for k, v in result.items():
            table.add_row(k, _fmt(v))
        stdout.print(table)
    return 0


def main() -> None:
    # Idle OpenMP threads sleep instead of spinning: PriorityNet's ops are small, and on a shared
    # 2-core box spinning threads halved the --quick run's speed. Set it yourself to override.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app(prog_name="ahsd-train")


if __name__ == "__main__":  # pragma: no cover
    main()
