"""The meta-device preflight: PriorityNet and one batch of shapes, before any data or device.

A shape or head mismatch (attention heads that do not divide the width, a strain shape the encoder
cannot take) fails here in about a second, with no memory allocated and no device started.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import torch

from ahsd_train.errors import AhsdTrainError, PreflightError

if TYPE_CHECKING:
    from ahsd_config.schema import TrainingConfig


def preflight(config: TrainingConfig, n_features: int, strain_shape: tuple[int, int] | None) -> None:
    """Build PriorityNet on the meta device and push one batch of shapes through it (forward, loss,
    backward); raises PreflightError naming what does not fit."""
    import torch.fx.experimental._config as fx_config

    from ahsd_train.engine.loss import PriorityLoss
    from ahsd_train.engine.model import PriorityNet

    pn, syn = config.priority_net, config.data.synthetic
    B, S = 2, max(2, min(syn.max_signals, 4))
    try:
        with fx_config.patch(meta_nonzero_assume_all_nonzero=True), torch.device("meta"):
            model = PriorityNet(pn, n_features, strain_shape)
            batch = SimpleNamespace(
                features=torch.zeros(B, S, n_features), mask=torch.ones(B, S, dtype=torch.bool),
                priority=torch.zeros(B, S), snr=torch.ones(B, S), snr_estimate=torch.ones(B, S),
                edge_type=torch.ones(B, S, dtype=torch.long), n_signals=torch.full((B,), S),
                strain=torch.zeros(B, S, *strain_shape) if strain_shape else None,
            )
            out = model(batch)
            PriorityLoss(pn, check_finite=False)(out, batch).total.backward()
    except AhsdTrainError as exc:
        raise PreflightError(exc.message) from None
    except (RuntimeError, ValueError, IndexError, TypeError, NotImplementedError) as exc:
        raise PreflightError(f"{type(exc).__name__}: {exc}") from None
    if tuple(out.priority.shape) != (B, S) or tuple(out.uncertainty.shape) != (B, S):
        raise PreflightError(f"the heads return {tuple(out.priority.shape)}, expected {(B, S)}")
