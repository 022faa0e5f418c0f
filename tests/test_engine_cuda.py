"""The engine on CUDA with bf16 autocast (skipped without a GPU); the autocast path also on CPU."""

from __future__ import annotations

import math

import pytest
import torch

from ahsd_train.engine import normalization as nz
from ahsd_train.review.bench import project_config, run_benchmark
from ahsd_train.engine.data import SyntheticScenarioSource
from ahsd_train.engine.loss import PriorityLoss
from ahsd_train.engine.metrics import evaluate
from ahsd_train.engine.model import PriorityNet

CFG = project_config()
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def train_step_under_autocast(device: str, dtype: torch.dtype) -> None:
    pn = CFG.priority_net  # shipped config: strain on
    source = SyntheticScenarioSource(CFG.data, pn, seed=0, device=device)
    batch = source.generate(48)
    assert batch.features.device.type == torch.device(device).type
    model = PriorityNet(pn, len(nz.FEATURE_NAMES), source.strain_shape).to(device)
    with torch.autocast(torch.device(device).type, dtype=dtype):
        out = model(batch)
        loss = PriorityLoss(pn)(out, batch)
    assert out.priority.dtype == torch.float32 and loss.total.dtype == torch.float32
    loss.total.backward()
    assert math.isfinite(loss.total.item())
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    metrics = evaluate(out.priority, batch, out.uncertainty)
    assert -1 <= metrics["kendall_tau"] <= 1


def test_bf16_autocast_path_on_cpu():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_step_under_autocast("cpu", torch.bfloat16)
    finally:
        torch.set_num_threads(before)


@pytest.mark.cuda
@needs_cuda
def test_train_step_on_cuda_with_bf16_autocast():
    train_step_under_autocast("cuda", torch.bfloat16)


@pytest.mark.cuda
@needs_cuda
def test_generation_on_cuda_is_deterministic_from_seed():
    pn = CFG.priority_net
    a = SyntheticScenarioSource(CFG.data, pn, seed=3, device="cuda").generate(64)
    b = SyntheticScenarioSource(CFG.data, pn, seed=3, device="cuda").generate(64)
    assert a.features.is_cuda and a.strain.is_cuda
    assert all(torch.equal(x, y) for x, y in zip(a.tensors().values(), b.tensors().values()))


@pytest.mark.cuda
@needs_cuda
def test_cuda_forward_matches_cpu_in_float32():
    pn = CFG.priority_net.model_copy(update={"use_strain": False})
    batch = SyntheticScenarioSource(CFG.data, pn, seed=4).generate(32)
    torch.manual_seed(0)
    model = PriorityNet(pn, len(nz.FEATURE_NAMES)).eval()
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False  # compare float32 with float32
    try:
        with torch.no_grad():
            cpu = model(batch).priority
            gpu = model.to("cuda")(batch.to("cuda")).priority.cpu()
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=1e-4)


@pytest.mark.cuda
@needs_cuda
def test_benchmark_runs_on_cuda():
    result = run_benchmark("cuda", batch_size=24, with_strain=True, steps=3, repeats=1, naive_steps=1)
    assert result["bf16_autocast"] and result["train_speedup"] > 1
