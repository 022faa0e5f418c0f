"""The optimizer, the learning-rate schedule and early stopping, from `priority_net`."""

from __future__ import annotations

import torch


def build_optimizer(pn, params) -> torch.optim.Optimizer:
    """AdamW (decoupled weight decay) or Adam (L2 added to the gradient): `priority_net.optimizer`."""
    opt = {"AdamW": torch.optim.AdamW, "Adam": torch.optim.Adam}[pn.optimizer]
    # fused: one kernel for the whole update instead of ~10 per tensor (AdamW's step was a fifth
    # of a CPU train step at batch 24); the benchmark times the same optimizer.
    return opt(params, lr=pn.learning_rate, weight_decay=pn.weight_decay, fused=True)


def build_schedulers(pn, optimizer, steps_per_epoch: int):
    """Linear warm-up over `warmup_epochs` (stepped per optimizer step), then ReduceLROnPlateau on the
    validation loss (stepped per epoch once warm-up is over)."""
    warmup_steps = pn.warmup_epochs * steps_per_epoch
    warmup = torch.optim.lr_scheduler.LinearLR(
        optimizer, start_factor=pn.warmup_start_factor if warmup_steps else 1.0,
        end_factor=1.0, total_iters=max(warmup_steps, 1))
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=pn.scheduler_factor, patience=pn.scheduler_patience,
        threshold=pn.scheduler_threshold, threshold_mode="rel", min_lr=pn.min_lr)
    return warmup, plateau, warmup_steps


def early_stopping_due(bad_epochs: int, pn, monitoring) -> bool:
    """Stop after `patience` epochs without validation improvement, when early stopping is on."""
    return monitoring.early_stopping and bad_epochs > 0 and bad_epochs >= pn.patience
