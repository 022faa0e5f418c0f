"""Training health: the seed note's checklist as small, pure units, plus the decision to stop.

Two layers, kept apart (torchtune/Lightning style):

- **per-step measurement** — `find_nonfinite`, `is_spike`, `batchnorm_in_eval`: pure functions the
  loop calls on every step; `HealthMonitor.observe` folds them into a `StepHealth` record (logged to
  `metrics.jsonl`) and `decide_stop` turns that into a reason to stop, or None;
- **checklist verdicts** — `check_*`: pure functions over the logged (typed) records, each returning a
  `HealthVerdict(name, passed, value, threshold, reason)`. `checklist(records, ...)` runs them in
  the seed note's order; `report.json` and `ahsd-train doctor` both use it, so a crashed run's
  checklist comes from its `metrics.jsonl` alone.

Thresholds come from `monitoring.health` and `priority_net.gradient_clip_norm`; nothing is hard-coded
here except the window sizes below.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

import torch
from torch import nn

from ahsd_train.run.records import Record, StepRecord, epochs_of, steps_of

SPIKE_WINDOW = 50  # steps in the running median a loss spike is measured against
SPIKE_MIN_HISTORY = 5  # no spike verdicts before this many finite steps
PRIMARY_COMPONENTS = ("mse", "ranking", "uncertainty")
"""Loss terms that *are* the objective; every other weighted term is a penalty (balance check)."""


@dataclass(frozen=True)
class HealthVerdict:
    """One checklist item: what was measured, against what, and why it passed or failed."""

    name: str
    passed: bool
    value: Any
    threshold: Any
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- per-step measurement ----------------------------------------------------------------------


def find_nonfinite(named: Mapping[str, torch.Tensor | float]) -> str | None:
    """Name of the first entry that holds a NaN/Inf, in the mapping's order; None if all finite.

    One host sync when everything is finite (the common case on CUDA); the search runs only after."""
    tensors = [v.detach() for v in named.values() if isinstance(v, torch.Tensor)]
    scalars = [float(v) for v in named.values() if not isinstance(v, torch.Tensor)]
    if tensors and all(math.isfinite(x) for x in scalars):
        flags = torch.stack([torch.isfinite(t).all() for t in tensors])
        if bool(flags.all()):
            return None
    for name, value in named.items():
        if isinstance(value, torch.Tensor):
            if not bool(torch.isfinite(value.detach()).all()):
                return name
        elif not math.isfinite(float(value)):
            return name
    return None


def nonfinite_gradient(model: nn.Module) -> str | None:
    """Name of the first parameter whose gradient holds a NaN/Inf (only called once a step failed)."""
    for name, param in model.named_parameters():
        if param.grad is not None and not bool(torch.isfinite(param.grad).all()):
            return f"gradient of {name}"
    return None


def is_spike(loss: float, recent: list[float], factor: float) -> bool:
    """A finite loss above `factor` x the running median of the recent finite losses."""
    if len(recent) < SPIKE_MIN_HISTORY:
        return False
    return loss > factor * statistics.median(recent)


def batchnorm_in_eval(model: nn.Module) -> list[str]:
    """Names of BatchNorm layers that are in eval mode (during training they must all be training)."""
    return [
        name
        for name, m in model.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not m.training
    ]


def component_shares(weighted: Mapping[str, float]) -> dict[str, float]:
    """Share of each weighted loss term in the sum of their magnitudes (0 when the sum is 0)."""
    total = sum(abs(v) for v in weighted.values())
    return {k: (abs(v) / total if total > 0 else 0.0) for k, v in weighted.items()}


# --- per-step state and the decision to stop ---------------------------------------------------


@dataclass
class StepHealth:
    """What the monitor measured on one step (becomes part of the step's metrics record)."""

    step: int
    nonfinite: str | None = None  # which value went non-finite: loss component, output or gradient
    spike: bool = False
    clipped: bool = False
    bn_eval: list[str] = field(default_factory=list)
    skipped: bool = False


@dataclass
class HealthState:
    """Everything the live checks remember between steps; checkpointed so a resume continues it."""

    recent_losses: list[float] = field(default_factory=list)
    last_finite: dict[str, float] = field(default_factory=dict)
    last_finite_step: int = -1
    n_skipped: int = 0
    n_nonfinite: int = 0
    n_fallbacks: int = 0  # resumes that had to fall back to an older checkpoint (lost progress)

    def to_state(self) -> dict[str, Any]:
        return {
            "recent_losses": [float(x) for x in self.recent_losses],
            "last_finite": {k: float(v) for k, v in self.last_finite.items()},
            "last_finite_step": int(self.last_finite_step),
            "n_skipped": int(self.n_skipped),
            "n_nonfinite": int(self.n_nonfinite),
            "n_fallbacks": int(self.n_fallbacks),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "HealthState":
        return cls(
            recent_losses=[float(x) for x in state["recent_losses"]],
            last_finite={str(k): float(v) for k, v in state["last_finite"].items()},
            last_finite_step=int(state["last_finite_step"]),
            n_skipped=int(state["n_skipped"]),
            n_nonfinite=int(state["n_nonfinite"]),
            n_fallbacks=int(state["n_fallbacks"]),
        )


class HealthMonitor:
    """Folds the per-step measurements into `StepHealth` and keeps `HealthState` up to date."""

    def __init__(self, health_cfg, clip_norm: float, state: HealthState | None = None) -> None:
        self.cfg = health_cfg
        self.clip_norm = clip_norm
        self.state = state or HealthState()

    def observe(
        self,
        step: int,
        values: Mapping[str, float],
        nonfinite: str | None,
        grad_norm: float,
        bn_eval: list[str],
    ) -> StepHealth:
        """`values`: this step's loss, components and grad norm as floats (may hold NaN)."""
        health = StepHealth(step=step, nonfinite=nonfinite, bn_eval=bn_eval)
        if nonfinite is not None:
            self.state.n_nonfinite += 1
            health.skipped = self.cfg.nonfinite_policy == "skip"
            self.state.n_skipped += int(health.skipped)
            return health
        loss = float(values["loss"])
        health.clipped = grad_norm > self.clip_norm
        health.spike = is_spike(loss, self.state.recent_losses, self.cfg.loss_spike_factor)
        self.state.recent_losses = (self.state.recent_losses + [loss])[-SPIKE_WINDOW:]
        self.state.last_finite = {k: float(v) for k, v in values.items()}
        self.state.last_finite_step = step
        return health


def decide_stop(health: StepHealth, state: HealthState, cfg) -> str | None:
    """The one place that decides a run must stop; returns the reason, or None to go on."""
    if health.nonfinite is None:
        return None
    last = ", ".join(f"{k}={v:.6g}" for k, v in state.last_finite.items()) or "none yet"
    where = (
        f"step {health.step}: non-finite {health.nonfinite}; last finite values "
        f"(step {state.last_finite_step}): {last}"
    )
    if cfg.nonfinite_policy == "stop":
        return f"{where} (monitoring.health.nonfinite_policy = stop)"
    if state.n_skipped > cfg.max_skipped_steps:
        return (
            f"{where}; {state.n_skipped} non-finite steps skipped, more than "
            f"monitoring.health.max_skipped_steps = {cfg.max_skipped_steps}"
        )
    return None


# --- checklist verdicts over logged records ------------------------------------------------------


def check_grad_norm_below_clip(epoch_norms: list[float], clip: float, epoch: str = "last epoch") -> HealthVerdict:
    """Seed: 'Gradient norm < 5.0', read after an epoch ('Epoch 3: Grad = 28.9') — the mean unit-scale
    pre-clip norm of the final epoch's steps stays below the clip."""
    mean = statistics.fmean(epoch_norms) if epoch_norms else float("nan")
    passed = bool(epoch_norms) and mean < clip
    return HealthVerdict(
        "grad_norm_below_clip", passed, _num(mean), clip,
        f"{epoch} mean gradient norm (before clipping, at unit loss scale) {mean:.4g} "
        f"{'<' if passed else '>='} priority_net.gradient_clip_norm = {clip:g}",
    )


def check_grad_norm_typical(step_norms: list[float], typical_max: float, epoch: str = "last epoch") -> HealthVerdict:
    """Seed: '~1-3 typical' — the final epoch's median unit-scale pre-clip norm is at most
    `grad_norm_typical_max`."""
    median = statistics.median(step_norms) if step_norms else float("nan")
    passed = bool(step_norms) and median <= typical_max
    return HealthVerdict(
        "grad_norm_typical", passed, _num(median), typical_max,
        f"{epoch} median gradient norm (at unit loss scale) {median:.4g} {'<=' if passed else '>'} "
        f"monitoring.health.grad_norm_typical_max = {typical_max:g}",
    )


def check_clipped_fraction(clipped: list[bool], max_fraction: float, epoch: str = "last epoch",
                           effective_clip: float | None = None) -> HealthVerdict:
    """Fraction of the final epoch's steps whose gradient was clipped; a high one means the clip is
    too tight. `effective_clip`: the clip at unit loss scale when the loss scale is not 1."""
    frac = sum(clipped) / len(clipped) if clipped else 0.0
    passed = frac <= max_fraction
    inert = ("" if effective_clip is None else
             f"; the clip acts at {effective_clip:.4g} at unit loss scale (priority_net.loss_scale_factor)")
    return HealthVerdict(
        "clipped_fraction", passed, round(frac, 6), max_fraction,
        f"{epoch}: {sum(clipped)} of {len(clipped)} steps clipped ({frac:.1%}); "
        f"limit monitoring.health.max_clipped_fraction = {max_fraction:g}{inert}",
    )


def check_loss_decreasing(
    epoch_losses: list[float], step_losses: list[float], n_spikes: int, max_spike_fraction: float
) -> HealthVerdict:
    """Seed: 'Loss decreasing smoothly (not spiking)' — last/first train loss < 1 and spikes on at
    most `max_spike_fraction` of the steps (`monitoring.health.max_spike_fraction`).

    With two or more epochs the epoch means are compared; within one epoch, the first and last
    quarter of the steps.
    """
    if len(epoch_losses) >= 2:
        first, last = epoch_losses[0], epoch_losses[-1]
    elif len(step_losses) >= 4:
        q = len(step_losses) // 4
        first, last = statistics.fmean(step_losses[:q]), statistics.fmean(step_losses[-q:])
    else:
        first = last = float("nan")
    ratio = last / first if first and math.isfinite(first) and first > 0 else float("nan")
    allowed = int(max_spike_fraction * len(step_losses))
    passed = math.isfinite(ratio) and ratio < 1.0 and n_spikes <= allowed
    return HealthVerdict(
        "loss_decreasing_smoothly", passed, _num(ratio), 1.0,
        f"train loss went {first:.6g} -> {last:.6g} (ratio {ratio:.4g}, must be < 1); "
        f"{n_spikes} spike{'s' if n_spikes != 1 else ''} above loss_spike_factor x running median "
        f"in {len(step_losses)} steps (at most {allowed} allowed: max_spike_fraction {max_spike_fraction:g})",
    )


def check_no_nonfinite(n_nonfinite: int, first: str | None) -> HealthVerdict:
    """Seed: 'No NaN/Inf in outputs' — counts steps with a non-finite loss, output or gradient."""
    return HealthVerdict(
        "no_nonfinite", n_nonfinite == 0, n_nonfinite, 0,
        "no NaN/Inf in loss, outputs or gradients" if n_nonfinite == 0
        else f"{n_nonfinite} non-finite step(s); first: {first}",
    )


def check_components_balanced(shares: Mapping[str, float], max_share: float) -> HealthVerdict:
    """Seed: 'Loss components balanced (none dominating)' — no penalty term above `max_share`."""
    penalties = {k: v for k, v in shares.items() if k not in PRIMARY_COMPONENTS}
    if not penalties:
        return HealthVerdict("components_balanced", True, 0.0, max_share, "no penalty terms active")
    name, share = max(penalties.items(), key=lambda kv: kv[1])
    passed = share <= max_share
    return HealthVerdict(
        "components_balanced", passed, round(share, 6), max_share,
        f"largest penalty term '{name}' is {share:.1%} of the weighted loss"
        + ("" if passed else f", above monitoring.health.max_component_share = {max_share:g}: "
           f"'{name}' dominates"),
    )


def check_batchnorm_train_mode(n_eval_steps: int, has_batchnorm: bool) -> HealthVerdict:
    """Seed fix #3: 'Verify model.train() mode' — BatchNorm layers train on every step."""
    if not has_batchnorm:
        return HealthVerdict("batchnorm_train_mode", True, 0, 0, "the model has no BatchNorm")
    return HealthVerdict(
        "batchnorm_train_mode", n_eval_steps == 0, n_eval_steps, 0,
        "every BatchNorm layer was in train mode on every step" if n_eval_steps == 0
        else f"BatchNorm layers were in eval mode on {n_eval_steps} training step(s)",
    )


def check_no_resets(n_skipped: int, n_fallbacks: int, stop_reason: str | None) -> HealthVerdict:
    """Seed: 'Training continuing without resets' — no skipped steps, rollbacks or stops."""
    resets = n_skipped + n_fallbacks + int(stop_reason is not None)
    parts = [f"{n_skipped} skipped step(s)", f"{n_fallbacks} checkpoint fallback(s)"]
    parts.append(f"stopped: {stop_reason}" if stop_reason else "not stopped")
    return HealthVerdict("no_resets", resets == 0, resets, 0, "; ".join(parts))


def final_epoch_steps(steps: list[StepRecord]) -> tuple[list[StepRecord], str]:
    """The finite steps of the last epoch the records reach (a crashed run: its partial epoch), and
    how to name it ("epoch 3 of 3 logged")."""
    finite = [r for r in steps if r.finite]
    if not finite:
        return [], "no epoch"
    last = max(r.epoch for r in finite)
    n_epochs = len({r.epoch for r in finite})
    return [r for r in finite if r.epoch == last], f"epoch {last + 1} ({n_epochs} logged)"


def checklist(records: Iterable[Record], clip: float, health_cfg, has_batchnorm: bool,
              stop_reason: str | None = None, n_fallbacks: int = 0,
              loss_scale: float = 1.0) -> list[HealthVerdict]:
    """The seed note's checklist, item by item, from `metrics.jsonl` records (step and epoch).

    Gradient items read the final epoch, as the note reads its 'Grad' line after an epoch, and at
    unit loss scale: the logged norm is of `loss_scale x loss`, the note's 5.0 and '1-3' are of the
    loss itself (its trainer never applied a scale), so each norm is divided by `loss_scale`."""
    records = list(records)
    steps, epochs = steps_of(records), epochs_of(records)
    finite = [r for r in steps if r.finite]
    weighted_sums: dict[str, float] = {}
    for r in finite:
        for k, v in r.weighted.items():
            weighted_sums[k] = weighted_sums.get(k, 0.0) + abs(v)
    nonfinite = [r for r in steps if not r.finite]
    first_bad = f"step {nonfinite[0].step}: {nonfinite[0].nonfinite}" if nonfinite else None
    last, which = final_epoch_steps(steps)
    unit_norms = [r.grad_norm / loss_scale for r in last]
    effective = None if loss_scale == 1.0 else clip / loss_scale
    return [
        check_grad_norm_below_clip(unit_norms, clip, which),
        check_grad_norm_typical(unit_norms, health_cfg.grad_norm_typical_max, which),
        check_clipped_fraction([r.clipped for r in last], health_cfg.max_clipped_fraction, which, effective),
        check_loss_decreasing([e.train_loss for e in epochs if e.train_loss is not None],
                              [r.loss for r in finite], sum(r.spike for r in finite),
                              health_cfg.max_spike_fraction),
        check_no_nonfinite(len(nonfinite), first_bad),
        check_components_balanced(component_shares(weighted_sums), health_cfg.max_component_share),
        check_batchnorm_train_mode(sum(bool(r.bn_eval) for r in steps), has_batchnorm),
        check_no_resets(sum(r.skipped for r in steps), n_fallbacks, stop_reason),
    ]


def _num(x: float) -> float | None:
    """JSON has no NaN: an unmeasured value is null."""
    return round(float(x), 6) if math.isfinite(x) else None
