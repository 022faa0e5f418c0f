"""Evaluation of a model on one split: mean loss, each component, and the engine's ranking metrics."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from ahsd_train.run.progress import NO_PROGRESS, Progress

EVAL_CHUNK = 256  # scenarios per forward pass in evaluation


@torch.no_grad()
def evaluate_split(model, loss_fn, data, autocast, progress: Progress = NO_PROGRESS,
                   label: str = "evaluating") -> dict[str, Any]:
    """Mean loss (weighted by scenarios), each component, and the engine's ranking metrics;
    {} for an empty split."""
    from ahsd_train.engine.metrics import evaluate

    if data is None or len(data) == 0:
        return {}
    with progress.task(label, total=len(data)) as bar:
        return _evaluate_chunks(model, loss_fn, data, autocast, bar, evaluate)


def _evaluate_chunks(model, loss_fn, data, autocast, bar, evaluate) -> dict[str, Any]:
    model.eval()
    width = data.features.shape[1]
    preds, uncs, total, comps = [], [], 0.0, {}
    for start in range(0, len(data), EVAL_CHUNK):
        chunk = data.slice(slice(start, start + EVAL_CHUNK))
        with autocast():
            out = model(chunk)
        out = float_output(out)
        res = loss_fn(out, chunk)
        n = len(chunk)
        total += float(res.total) * n
        for k, v in res.components.items():
            comps[k] = comps.get(k, 0.0) + float(v) * n
        preds.append(_pad(out.priority, width))
        uncs.append(_pad(out.uncertainty, width))
        bar.update(advance=n)
    model.train()
    n = len(data)
    metrics = evaluate(torch.cat(preds), data, torch.cat(uncs))
    return {"loss": total / n, "components": {k: v / n for k, v in comps.items()}, **metrics}


def _pad(x: torch.Tensor, width: int) -> torch.Tensor:
    return torch.nn.functional.pad(x, (0, width - x.shape[1]))  # (B, S) -> (B, width)


def float_output(out):
    """bf16 autocast outputs -> fp32 before the loss (the loss's reductions want fp32)."""
    return dataclasses.replace(out, priority=out.priority.float(), uncertainty=out.uncertainty.float(),
                               raw=out.raw.float())
