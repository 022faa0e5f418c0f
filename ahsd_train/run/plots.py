"""PNG training curves from `metrics.jsonl` records (matplotlib, Agg backend, atomic writes).

    plots/loss_components.png   total and every weighted loss component per step (log y)
    plots/grad_norm.png         pre-clip gradient norm per step at unit loss scale (log y), the clip
                                marked (and where it acts when priority_net.loss_scale_factor != 1)
    plots/lr.png                learning rate per step
    plots/val_ranking.png       validation Kendall tau and pairwise accuracy per epoch, SNR baseline dashed
"""

from __future__ import annotations

import io
from pathlib import Path

from ahsd_config.input.files import atomic_write_bytes
from ahsd_train.run.records import Record, StepRecord, epochs_of, finite_steps


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))


def draw_grad_norm(ax, steps: list[StepRecord], clip: float, loss_scale: float = 1.0,
                   label: str = "grad norm (before clipping)", color: str = "C0",
                   clip_label: str = "", x: list[float] | None = None, xlabel: str = "step") -> None:
    """Unit-scale pre-clip norms on a log axis (a 0.02 curve stays visible next to a 5.0 clip), the
    clip as a dashed line; when the loss is scaled, a dotted line where the clip really acts."""
    ax.plot(x if x is not None else [r.step for r in steps],
            [max(r.grad_norm / loss_scale, 1e-12) for r in steps], lw=1, color=color, label=label)
    ax.axhline(clip, color=color, ls="--", lw=1, label=f"{clip_label}gradient_clip_norm = {clip:g}")
    if loss_scale != 1.0:
        ax.axhline(clip / loss_scale, color=color, ls=":", lw=1,
                   label=f"{clip_label}clip at unit scale = {clip / loss_scale:g} (loss_scale_factor {loss_scale:g})")
    ax.set(yscale="log", xlabel=xlabel, ylabel="L2 norm at unit loss scale")


def write_plots(run_dir: Path, records: list[Record], clip: float, loss_scale: float = 1.0) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    steps, epochs = finite_steps(records), epochs_of(records)
    out = run_dir / "plots"
    written: list[Path] = []
    if steps:
        x = [r.step for r in steps]
        fig, ax = plt.subplots(figsize=(8, 4.5))
        ax.plot(x, [r.loss for r in steps], label="total", color="black", lw=1.5)
        for name in steps[0].weighted:
            # a term at exactly 0 (min_variance once the spread is met) is a gap, not a 1e-12 cliff
            ys = [abs(r.weighted.get(name) or 0.0) or float("nan") for r in steps]
            ax.plot(x, ys, label=name, lw=0.9)
        ax.set(yscale="log", xlabel="step", ylabel="weighted loss", title="Loss components")
        # outside the axes: inside, the legend covered the total line
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        written.append(out / "loss_components.png"); _save(fig, written[-1]); plt.close(fig)

        fig, ax = plt.subplots(figsize=(8, 3.5))
        draw_grad_norm(ax, steps, clip, loss_scale)
        ax.set(title="Gradient norm")
        ax.legend(fontsize=8)
        written.append(out / "grad_norm.png"); _save(fig, written[-1]); plt.close(fig)

        fig, ax = plt.subplots(figsize=(8, 3))
        ax.plot(x, [r.lr for r in steps], lw=1)
        ax.set(xlabel="step", ylabel="learning rate", title="Learning rate (warm-up, then plateau)")
        written.append(out / "lr.png"); _save(fig, written[-1]); plt.close(fig)
    with_val = [e for e in epochs if e.val]
    if with_val:
        ex = [e.epoch + 1 for e in with_val]
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for key, color in (("kendall_tau", "C0"), ("pairwise_accuracy", "C1")):
            ax.plot(ex, [e.val.get(key) for e in with_val], marker="o", color=color, label=key)
            ax.plot(ex, [e.val.get(f"snr_baseline_{key}") for e in with_val], ls="--", color=color,
                    label=f"SNR-sort baseline {key}")
        ax.set(xlabel="epoch", ylabel="validation score (1 = perfect order)", title="Validation ranking")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
        written.append(out / "val_ranking.png"); _save(fig, written[-1]); plt.close(fig)
    return written
