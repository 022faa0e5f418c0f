"""`ahsd-train evaluate RUN_DIR...`: the benchmark results table of finished runs.

`ahsd-train run` computes the benchmark metrics at its end (``benchmark.benchmark_metrics`` on the
fixed test set, stored in ``report.json`` under ``metrics``); this module reads them back and renders
one table row per run (the README's results and ablation tables are its output, pasted).
"""

from __future__ import annotations

from dataclasses import dataclass
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


def load_run(run_dir: Path) -> RunMetrics:
    """The test metrics of a finished run; AhsdTrainError (exit 2) naming what is missing."""
    path = Path(run_dir) / runlog.REPORT
    if not path.is_file():
        raise AhsdTrainError(f"{path}: no report (the run did not finish; `ahsd-train doctor {run_dir}` says why)")
    try:
        report = runlog.read_json(path)
    except (OSError, ValueError) as exc:
        raise AhsdTrainError(f"{path}: unreadable report ({exc})") from None
    metrics = report.get("metrics") if isinstance(report, dict) else None
    missing = [k for k in REQUIRED if not isinstance(metrics, dict) or k not in metrics]
    if missing:
        raise AhsdTrainError(f"{path}: no benchmark metrics ({', '.join(missing)}); it was written by an "
                             "older ahsd-train or by a stopped run: re-run it")
    return RunMetrics(Path(run_dir).name, metrics)


def _ci(d: dict[str, Any], signed: bool = False) -> str:
    fmt = "{:+.3f}" if signed else "{:.3f}"
    lo, hi = d["ci95"]
    return f"{fmt.format(d['estimate'])} [{fmt.format(lo)}, {fmt.format(hi)}]"


COLUMNS = ("run", "tau, detectable (95 % CI)", "SNR-sort tau", "gain vs SNR-sort (paired CI)",
           "gain vs overlap formula (paired CI)", "pair acc. 5+ gain", "top-1 model / SNR", "pair Brier (constant)", "AUROC mis-ordered", "test scenarios")


def table_row(run: RunMetrics) -> list[str]:
    m = run.metrics
    rank = m["benchmark"]["ranking"]
    top1 = rank["top1_accuracy"]
    return [
        run.name,
        _ci(rank["tau_detectable"]["model"]),
        _ci(rank["tau_detectable"]["snr_sort"]),
        _ci(m["gain_vs_snr"], signed=True),
        _ci(m["gain_vs_effective_snr"], signed=True) if "gain_vs_effective_snr" in m else "n/a (older report)",
        _ci(rank["pair_accuracy_5plus"]["gain"], signed=True),
        f"{top1['model']['estimate']:.3f} / {top1['snr_sort']['estimate']:.3f}",
        f"{m['pair_brier']:.4f} ({m['constant_pair_brier']:.4f})",
        f"{m['pair_auroc_misordered']:.3f}",
        f"{m['n_test_scenarios']:,}",
    ]


def results_table(runs: list[RunMetrics]) -> str:
    """A Markdown table, one row per run."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(table_row(r)) + " |" for r in runs]
    return "\n".join(lines)


def evaluate_runs(run_dirs: list[Path]) -> tuple[list[RunMetrics], str]:
    runs = [load_run(d) for d in run_dirs]
    return runs, results_table(runs)
