"""Throughput of the batched engine against the naive per-scenario loop and a bare-MLP floor.

``run_benchmark`` is a pure function (no printing, no argument parsing) that the CLI
(``ahsd-train bench``) and ``benchmarks/train_throughput.py`` render. Three train steps are timed
on the same pre-generated batches, interleaved repeat by repeat so drift hits all alike:

- ``batched``: PriorityNet + PriorityLoss on the padded batch (bf16 autocast on CUDA);
- ``naive``: the same model weights, one scenario at a time with per-pair Python loops
  (``ahsd_train.naive``) — how the user's code ran;
- ``floor``: a bare MLP with the metadata extractor's widths (F -> hidden_dims -> 64 -> 1) on the
  same padded rows with an MSE loss — the compute floor of a train step at this batch.

Each step is zero_grad -> forward -> loss -> backward -> clip -> AdamW step. Figures are medians
of per-step times over ``repeats``.
"""

from __future__ import annotations

import copy
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn

from ahsd_train.engine import naive
from ahsd_train.engine.data import SyntheticScenarioSource
from ahsd_train.errors import AhsdTrainError
from ahsd_train.engine.loss import PriorityLoss
from ahsd_train.run.progress import NO_PROGRESS, Progress
from ahsd_train.engine.model import EXTRACTOR_DIM, PriorityNet

REPO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "enhanced_training.yaml"


def project_config(path: str | Path | None = None):
    """The validated ``TrainingConfig`` of ``path`` (default: the repository's shipped config), by
    the one road from YAML to a config (``ahsd_config.api.load_config``: a config with error
    findings is ``ConfigInvalid``, exit 2)."""
    from ahsd_config.api import load_config

    path = Path(path) if path is not None else REPO_CONFIG
    if not path.is_file():
        raise AhsdTrainError(f"{path}: config not found; pass the training YAML explicitly")
    return load_config(path).config


def floor_mlp(n_features: int, hidden_dims) -> nn.Sequential:
    widths = [n_features, *hidden_dims, EXTRACTOR_DIM]
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.GELU()]
    return nn.Sequential(*layers, nn.Linear(EXTRACTOR_DIM, 1))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(device: torch.device, fn, batches) -> float:
    """Median seconds per call of ``fn(batch)`` over ``batches``."""
    times = []
    for b in batches:
        _sync(device)
        t0 = time.perf_counter()
        fn(b)
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _train_step(params, opt, clip: float, autocast, loss_fn):
    def step(batch):
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()

    return step


def run_benchmark(
    device: str = "cpu",
    batch_size: int = 24,
    with_strain: bool = False,
    steps: int = 8,
    repeats: int = 5,
    naive_steps: int = 2,
    config=None,
    threads: int | None = None,
    compile_mode: str | None = None,
    seed: int = 0,
    progress: Progress = NO_PROGRESS,
) -> dict:
    """Train/inference throughput, batched vs naive vs floor. ``compile_mode``: None, "default" or
    "reduce-overhead" (CUDA graphs) for ``torch.compile`` of the batched model. ``naive_steps=0``
    skips the naive loop (its figures are then None). The bar (`progress`) moves between timed
    regions only, never inside one."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AhsdTrainError("bench --device cuda: no CUDA device is available")
    if threads is not None:
        torch.set_num_threads(threads)
    config = config if config is not None else project_config()
    bar = progress.open("benchmark: data and warm-up", total=repeats + 2)
    pn = config.priority_net.model_copy(update={"use_strain": with_strain, "batch_size": batch_size})
    torch.manual_seed(seed)
    source = SyntheticScenarioSource(config.data, pn, seed=seed, device=dev)
    data = source.generate(batch_size * (steps + 1))
    batches = [data.slice(slice(k * batch_size, (k + 1) * batch_size)) for k in range(steps + 1)]
    n_features = data.features.shape[-1]
    use_bf16 = dev.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else nullcontext
    clip = config.priority_net.gradient_clip_norm

    model = PriorityNet(pn, n_features, source.strain_shape).to(dev).train()
    naive_model = copy.deepcopy(model)
    floor = floor_mlp(n_features, pn.hidden_dims).to(dev).train()
    loss = PriorityLoss(pn, check_finite=compile_mode is None)
    fwd = torch.compile(model, mode=compile_mode, dynamic=True) if compile_mode else model

    def batched_loss(m, b):
        return loss(fwd(b), b).total

    def naive_loss(m, b):
        return naive.loss(pn, naive.forward(m, b), b)["total"]

    def floor_loss(m, b):
        pred = m(b.features).squeeze(-1)  # (B, S)
        return ((pred.float() - b.priority) ** 2 * b.mask).sum() / b.mask.sum()

    runs = {}
    contenders = [("batched", model, batched_loss), ("naive", naive_model, naive_loss), ("floor", floor, floor_loss)]
    for name, m, fn in contenders if naive_steps > 0 else contenders[::2]:
        params = [p for p in m.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=pn.learning_rate, weight_decay=pn.weight_decay, fused=True)
        runs[name] = _train_step(params, opt, clip, autocast, lambda b, m=m, fn=fn: fn(m, b))
        runs[name](batches[-1])  # warm-up (allocator, compile, lazy init)
    step_s = {name: [] for name in ("batched", "naive", "floor")}
    bar.update(completed=1, description="benchmark: training steps")
    for _ in range(repeats):  # interleaved so drift affects all three alike
        step_s["batched"].append(_timed(dev, runs["batched"], batches[:steps]))
        step_s["floor"].append(_timed(dev, runs["floor"], batches[:steps]))
        if naive_steps > 0:
            step_s["naive"].append(_timed(dev, runs["naive"], batches[:naive_steps]))
        bar.update(advance=1)
    bar.update(description="benchmark: inference")
    med = {name: statistics.median(v) if v else None for name, v in step_s.items()}

    model.eval()
    with torch.inference_mode(), autocast():
        infer_s = _timed(dev, fwd, batches[:steps] * max(1, repeats // 2))
    bar.close()
    n_sig = statistics.mean(float(b.n_signals.sum()) for b in batches[:steps])
    return {
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "with_strain": with_strain,
        "bf16_autocast": use_bf16,
        "compile_mode": compile_mode,
        "signals_per_scenario": n_sig / batch_size,
        "train_step_ms": 1e3 * med["batched"],
        "naive_train_step_ms": 1e3 * med["naive"] if med["naive"] else None,
        "floor_train_step_ms": 1e3 * med["floor"],
        "train_scenarios_per_s": batch_size / med["batched"],
        "train_signals_per_s": n_sig / med["batched"],
        "naive_train_scenarios_per_s": batch_size / med["naive"] if med["naive"] else None,
        "floor_train_scenarios_per_s": batch_size / med["floor"],
        "train_speedup": med["naive"] / med["batched"] if med["naive"] else None,
        "floor_ratio": med["floor"] / med["batched"],
        "infer_scenarios_per_s": batch_size / infer_s,
        "infer_signals_per_s": n_sig / infer_s,
    }
