"""PNG training curves from `metrics.jsonl` records (matplotlib, Agg backend, atomic writes).

    plots/loss_components.png   total and every weighted loss component per step (log y)
    plots/grad_norm.png         pre-clip gradient norm per step with the clip line
    plots/lr.png                learning rate per step
    plots/val_ranking.png       validation Kendall tau and pairwise accuracy per epoch, SNR baseline dashed
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ahsd_train.checkpoint import atomic_write_bytes


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))


def write_plots(run_dir: Path, records: list[dict[str, Any]], clip: float) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r for r in records if r.get("kind") == "step" and r.get("nonfinite") is None]
    epochs = [r for r in records if r.get("kind") == "epoch"]
    out = run_dir / "plots"
    written: list[Path] = []
    if steps:
        x = [r["step"] for r in steps]
        fig, ax = plt.subplots(figsize=(8, 4.5))
        ax.plot(x, [r["loss"] for r in steps], label="total", color="black", lw=1.5)
        for name in steps[0].get("weighted", {}):
            ys = [max(abs(r["weighted"].get(name) or 0.0), 1e-12) for r in steps]
            ax.plot(x, ys, label=name, lw=0.9)
        ax.set(yscale="log", xlabel="step", ylabel="weighted loss", title="Loss components")
        ax.legend(fontsize=7, ncol=3)
        written.append(out / "loss_components.png"); _save(fig, written[-1]); plt.close(fig)

        fig, ax = plt.subplots(figsize=(8, 3.5))
        ax.plot(x, [r["grad_norm"] for r in steps], lw=1, label="grad norm (before clipping)")
        ax.axhline(clip, color="red", ls="--", label=f"gradient_clip_norm = {clip:g}")
        ax.set(xlabel="step", ylabel="L2 norm", title="Gradient norm")
        ax.legend(fontsize=8)
        written.append(out / "grad_norm.png"); _save(fig, written[-1]); plt.close(fig)

        fig, ax = plt.subplots(figsize=(8, 3))
        ax.plot(x, [r["lr"] for r in steps], lw=1)
        ax.set(xlabel="step", ylabel="learning rate", title="Learning rate (warm-up, then plateau)")
        written.append(out / "lr.png"); _save(fig, written[-1]); plt.close(fig)
    with_val = [e for e in epochs if e.get("val")]
    if with_val:
        ex = [e["epoch"] + 1 for e in with_val]
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for key, color in (("kendall_tau", "C0"), ("pairwise_accuracy", "C1")):
            ax.plot(ex, [e["val"].get(key) for e in with_val], marker="o", color=color, label=key)
            ax.plot(ex, [e["val"].get(f"snr_baseline_{key}") for e in with_val], ls="--", color=color,
                    label=f"SNR-sort baseline {key}")
        ax.set(xlabel="epoch", title="Validation ranking")
        ax.legend(fontsize=7)
        written.append(out / "val_ranking.png"); _save(fig, written[-1]); plt.close(fig)
    return written
