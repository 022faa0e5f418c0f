"""`ahsd-train evaluate RUN_DIR...`: the benchmark results table of finished runs.

`ahsd-train run` computes the benchmark metrics at its end (``benchmark.benchmark_metrics`` on the
fixed test set, stored in ``report.json`` under ``metrics``); this module reads them back and renders
one table row per run (the README's results and ablation tables are its output, pasted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahsd_train.run import runlog
from ahsd_train.errors import AhsdTrainError

REQUIRED = ("tau_detectable", "snr_baseline_tau_detectable", "gain_vs_snr", "pair_brier",
            "constant_pair_brier", "pair_auroc_misordered", "n_test_scenarios", "benchmark")


@dataclass
class RunMetrics:
    name: str
    metrics: dict[str, Any]
    row: list[str] = field(default_factory=list)  # the table's cells, checked when the report was read


def load_run(run_dir: Path) -> RunMetrics:
    """The test metrics of a finished run; AhsdTrainError (exit 2) naming what is missing or not of
    the shape `ahsd-train run` writes (a hand-edited or foreign report.json is one line, not a
    TypeError deep in the table)."""
    path = Path(run_dir) / runlog.REPORT
    if not path.is_file():
        raise AhsdTrainError(f"{path}: no report (the run did not finish; `ahsd-train doctor {run_dir}` says why)")
    try:
        report = runlog.read_json(path)
    except (OSError, ValueError, RecursionError) as exc:
        raise AhsdTrainError(f"{path}: unreadable report ({exc})") from None
    metrics = report.get("metrics") if isinstance(report, dict) else None
    missing = [k for k in REQUIRED if not isinstance(metrics, dict) or k not in metrics]
    if missing:
        raise AhsdTrainError(f"{path}: no benchmark metrics ({', '.join(missing)}); it was written by an "
                             "older ahsd-train or by a stopped run: re-run it")
    name = Path(run_dir).name
    try:
        row = table_row(RunMetrics(name, metrics))
    except ReportShape as exc:
        what = "is missing" if exc.found == "absent" else f"is {exc.found}, not {exc.expected}"
        raise AhsdTrainError(f"{path}: metrics.{exc.where} {what} as `ahsd-train run` writes it; "
                             "re-run the run (or restore its report.json)") from None
    return RunMetrics(name, metrics, row)


class ReportShape(Exception):
    """A report value that is not what `ahsd-train run` writes there (`where` is its dotted path)."""

    def __init__(self, where: str, found: Any, expected: str) -> None:
        shown = ("absent" if found is ABSENT else "null" if found is None
                 else f"{type(found).__name__} {json.dumps(found, default=str)[:40]}")
        super().__init__(where)
        self.where, self.found, self.expected = where, shown, expected


def _at(m: dict[str, Any], where: str) -> Any:
    node: Any = m
    parts = where.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict):
            raise ReportShape(".".join(parts[:i]), node, "a mapping")
        if part not in node:
            raise ReportShape(".".join(parts[:i + 1]), ABSENT, "")
        node = node[part]
    return node


ABSENT = object()


def _number(m: dict[str, Any], where: str, fmt: str) -> str:
    """A number cell; JSON null is how a NaN metric is written (n/a)."""
    value = _at(m, where)
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportShape(where, value, "a number")
    return fmt.format(value)


def _ci(m: dict[str, Any], where: str, signed: bool = False) -> str:
    fmt = "{:+.3f}" if signed else "{:.3f}"
    ci = _at(m, f"{where}.ci95")
    if not isinstance(ci, list) or len(ci) != 2:
        raise ReportShape(f"{where}.ci95", ci, "[low, high]")
    lo, hi = (_bound(v, f"{where}.ci95", fmt) for v in ci)
    return f"{_number(m, f'{where}.estimate', fmt)} [{lo}, {hi}]"


def _bound(value: Any, where: str, fmt: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportShape(where, value, "[low, high] numbers")
    return fmt.format(value)


COLUMNS = ("run", "tau, detectable (95 % CI)", "SNR-sort tau", "gain vs SNR-sort (paired CI)",
           "gain vs overlap formula (paired CI)", "pair acc. 5+ gain", "top-1 model / SNR", "pair Brier (constant)", "AUROC mis-ordered", "test scenarios")


def table_row(run: RunMetrics) -> list[str]:
    """The run's cells; ReportShape naming the first value that is not where or what it should be."""
    m, rank = run.metrics, "benchmark.ranking"
    return [
        run.name,
        _ci(m, f"{rank}.tau_detectable.model"),
        _ci(m, f"{rank}.tau_detectable.snr_sort"),
        _ci(m, "gain_vs_snr", signed=True),
        _ci(m, "gain_vs_effective_snr", signed=True) if "gain_vs_effective_snr" in m else "n/a (older report)",
        _ci(m, f"{rank}.pair_accuracy_5plus.gain", signed=True),
        f"{_number(m, f'{rank}.top1_accuracy.model.estimate', '{:.3f}')} / "
        f"{_number(m, f'{rank}.top1_accuracy.snr_sort.estimate', '{:.3f}')}",
        f"{_number(m, 'pair_brier', '{:.4f}')} ({_number(m, 'constant_pair_brier', '{:.4f}')})",
        _number(m, "pair_auroc_misordered", "{:.3f}"),
        _number(m, "n_test_scenarios", "{:,}"),
    ]


def results_table(runs: list[RunMetrics]) -> str:
    """A Markdown table, one row per run."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r.row or table_row(r)) + " |" for r in runs]
    return "\n".join(lines)


def evaluate_runs(run_dirs: list[Path]) -> tuple[list[RunMetrics], str]:
    runs = [load_run(d) for d in run_dirs]
    return runs, results_table(runs)
