"""`report.json`: the seed note's checklist item by item, and the final metrics vs the SNR baseline.

    {"checklist": [{"name", "passed", "value", "threshold", "reason"}, ...],
     "metrics": {"kendall_tau", "pairwise_accuracy", ..., "snr_baseline_kendall_tau", ...,
                 "split": "test", "val": {...}, "best_val_loss", "epochs", "steps"},
     "status": "finished" | "stopped", "stop_reason": str | null, "end_reason": str,
     "passed": bool}

`metrics` holds the test split's metrics at the top level (validation's when there is no test
split), so `report["metrics"]["kendall_tau"]` is the number to compare runs by.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ahsd_train.run import health as hm
from ahsd_train.run import runlog
from ahsd_train.run.records import Record
from ahsd_train.run.state import LoopState

CHECKLIST_TITLES = {
    "grad_norm_below_clip": "Gradient norm < clip",
    "grad_norm_typical": "Gradient norm typical (~1-3)",
    "clipped_fraction": "Few steps clipped",
    "loss_decreasing_smoothly": "Loss decreasing smoothly (not spiking)",
    "no_nonfinite": "No NaN/Inf in loss, outputs, gradients",
    "components_balanced": "Loss components balanced (none dominating)",
    "batchnorm_train_mode": "BatchNorm in train mode",
    "no_resets": "Training continuing without resets",
}


def checklist_for(records: list[Record], config, has_batchnorm: bool,
                  stop_reason: str | None = None, n_fallbacks: int = 0) -> list[hm.HealthVerdict]:
    return hm.checklist(records, config.priority_net.gradient_clip_norm, config.monitoring.health,
                        has_batchnorm, stop_reason=stop_reason, n_fallbacks=n_fallbacks,
                        loss_scale=config.priority_net.loss_scale_factor)


def final_metrics(final: dict[str, dict[str, Any]], progress: LoopState) -> dict[str, Any]:
    split = "test" if final.get("test") else "val"
    chosen = final.get(split) or {}
    metrics = {k: v for k, v in chosen.items() if k != "components"}
    metrics["split"] = split
    metrics["val"] = {k: v for k, v in (final.get("val") or {}).items() if k != "components"}
    metrics["best_val_loss"] = progress.best_val_loss
    metrics["epochs"] = progress.epoch
    metrics["steps"] = progress.step
    return metrics


def build_report(records: list[Record], config, has_batchnorm: bool,
                 final: dict[str, dict[str, Any]], *, stop_reason: str | None, end_reason: str,
                 n_fallbacks: int, progress: LoopState) -> dict[str, Any]:
    items = checklist_for(records, config, has_batchnorm, stop_reason, n_fallbacks)
    return {
        "checklist": [v.to_json() for v in items],
        "metrics": final_metrics(final, progress),
        "status": "stopped" if stop_reason else "finished",
        "stop_reason": stop_reason,
        "end_reason": stop_reason or end_reason,
        "passed": all(v.passed for v in items),
    }


def write_report(run_dir: Path, report: dict[str, Any]) -> Path:
    path = run_dir / runlog.REPORT
    runlog.write_json(path, report)
    return path


def baseline_rows(metrics: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(metric, model, SNR-sort baseline) for every metric the baseline also has."""
    rows = []
    for key, value in metrics.items():
        base = metrics.get(f"snr_baseline_{key}")
        if not key.startswith("snr_baseline_") and base is not None:
            rows.append((key, value, base))
    return rows
