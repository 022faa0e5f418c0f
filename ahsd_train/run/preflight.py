"""The meta-device preflight: PriorityNet and one batch of shapes, before any data or device.

A shape or head mismatch (attention heads that do not divide the width, a strain shape the encoder
cannot take) fails here in about a second, with no memory allocated and no device started.

`check_memory` then sizes the run against the device's memory: a lower bound (the parameters with
their gradients and optimizer moments, and the scenarios held at once), so a config the schema
accepts but no machine can hold (`importance_hidden_dim: 2147483648`, two billion scenarios) is one
line naming the keys, not an allocator traceback or the OOM killer. Only a bound: a run it lets
through may still be too big, never the other way round.
"""

from __future__ import annotations

import contextlib
import os
from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable

import torch

from ahsd_config.input.files import TooLarge, read_bounded
from ahsd_train.errors import AhsdTrainError, PreflightError

if TYPE_CHECKING:
    from ahsd_config.schema import TrainingConfig
    from ahsd_train.run.setup import Plan


def preflight(config: TrainingConfig, n_features: int, strain_shape: tuple[int, int] | None,
              check_size: Callable[[int], None] | None = None) -> int:
    """Build PriorityNet on the meta device and push one batch of shapes through it (forward, loss,
    backward); raises PreflightError naming what does not fit. Returns the model's parameter count.

    `check_size(n_params)` runs between the two (`check_memory`): a meta forward still costs host
    memory per sequence step, so a strain window of two billion samples must be refused first."""
    from ahsd_train.engine.loss import PriorityLoss
    from ahsd_train.engine.model import PriorityNet

    pn, syn = config.priority_net, config.data.synthetic
    B, S = 2, max(2, min(syn.max_signals, 4))
    with _on_meta():
        model = PriorityNet(pn, n_features, strain_shape)
    n_params = sum(p.numel() for p in model.parameters())
    if check_size is not None:  # its own refusals (PreflightError, a dataset's ShardError) as they are
        check_size(n_params)
    with _on_meta():
        batch = SimpleNamespace(
            features=torch.zeros(B, S, n_features), mask=torch.ones(B, S, dtype=torch.bool),
            priority=torch.zeros(B, S), snr=torch.ones(B, S), snr_estimate=torch.ones(B, S),
            edge_type=torch.ones(B, S, dtype=torch.long), n_signals=torch.full((B,), S),
            strain=torch.zeros(B, S, *strain_shape) if strain_shape else None,
        )
        out = model(batch)
        PriorityLoss(pn, check_finite=False)(out, batch).total.backward()
    if tuple(out.priority.shape) != (B, S) or tuple(out.uncertainty.shape) != (B, S):
        raise PreflightError(f"the heads return {tuple(out.priority.shape)}, expected {(B, S)}")
    return n_params


@contextlib.contextmanager
def _on_meta():
    """The meta device, with what goes wrong there as PreflightError."""
    import torch.fx.experimental._config as fx_config

    try:
        with fx_config.patch(meta_nonzero_assume_all_nonzero=True), torch.device("meta"):
            yield
    except AhsdTrainError as exc:
        raise PreflightError(exc.message) from None
    except (RuntimeError, ValueError, IndexError, TypeError, NotImplementedError) as exc:
        raise PreflightError(f"{type(exc).__name__}: {exc}") from None


PARAM_COPIES = 4  # float32 weights, gradients and the optimizer's two moments (AdamW/Adam)
GENERATION_COLUMNS = 12  # the synthetic generator draws at least this many float64 values per slot


def memory_floor(config: TrainingConfig, plan: Plan, n_params: int, n_features: int,
                 strain_shape: tuple[int, int] | None) -> list[tuple[int, str]]:
    """Lower bounds of what the run holds at once, in bytes, each with what sets it:
    [(bytes, "the model: N parameters ..."), (bytes, "the data: ...")]."""
    pn, syn = config.priority_net, config.data.synthetic
    need = [(n_params * 4 * PARAM_COPIES,
             f"the model's {n_params:,} parameters with gradients and optimizer state ({_keys_of_model(pn)})")]
    if plan.data_dir:
        from ahsd_train.engine.shards import dataset_bytes

        need.append((dataset_bytes(plan.data_dir), f"the dataset in {plan.data_dir}"))
        return need
    n, S = plan.n_scenarios + plan.n_test, syn.max_signals
    per_slot = (n_features + 3) * 4 + 1 + 8  # features, priority/snr/snr_estimate, mask, edge id
    strain = strain_shape[0] * strain_shape[1] * 4 if strain_shape else 0
    held = n * S * (per_slot + strain)
    drawn = plan.n_scenarios * S * GENERATION_COLUMNS * 8
    keys = "data.synthetic.n_scenarios, test_scenarios, max_signals" + (
        ", strain_detectors, strain_samples" if strain_shape else "")
    need.append((max(held, drawn), f"{n:,} scenarios of {S} signal slots ({keys})"))
    return need


def _keys_of_model(pn) -> str:
    """The priority_net width that sizes the model most (the largest value among its widths)."""
    widths = {k: getattr(pn, k) for k in ("hidden_dims", "importance_hidden_dim", "n_edge_types",
                                          "overlap_importance_hidden") if getattr(pn, k, None) is not None}
    key, value = max(widths.items(), key=lambda kv: max(kv[1]) if isinstance(kv[1], (list, tuple)) else kv[1])
    shown = list(value) if isinstance(value, (list, tuple)) else value
    return f"the largest width: priority_net.{key} = {shown}"


def device_memory(device: torch.device) -> int | None:
    """Bytes the device can hold: the GPU's memory, or this machine's (its cgroup limit if lower)."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory)
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    try:
        limit = read_bounded("/sys/fs/cgroup/memory.max", 64).decode().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except (OSError, TooLarge, UnicodeDecodeError):
        pass
    return total


def check_memory(config: TrainingConfig, plan: Plan, n_params: int, n_features: int,
                 strain_shape: tuple[int, int] | None, device: torch.device) -> None:
    """PreflightError when even the lower bound of the run's memory exceeds the device's."""
    available = device_memory(device)
    need = memory_floor(config, plan, n_params, n_features, strain_shape)
    total = sum(b for b, _ in need)
    if available is None or total <= available:
        return
    what = "; ".join(f"{_gib(b)} for {why}" for b, why in sorted(need, reverse=True) if b >= total / 10)
    raise PreflightError(f"the run needs at least {_gib(total)} of memory and the {device.type} device has "
                         f"{_gib(available)}: {what}; lower that")


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"
