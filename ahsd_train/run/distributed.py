"""Data parallelism: `torchrun --nproc_per_node=N -m ahsd_train run ...`.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; then every process builds the same model and data
(same seed), wraps the model in DistributedDataParallel (SyncBatchNorm first when
`priority_net.sync_batchnorm`), and takes its own shard of each epoch's permutation — what
`DistributedSampler` does, on an in-memory batch. Only rank 0 logs, writes metrics and checkpoints.

`priority_net.batch_size` is the global batch; each replica sees batch_size / world_size, which is
what BatchNorm gets statistics from (the config's `world_size` is what the validator's BatchNorm
rule assumed; a mismatch with the launch is warned about).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env() -> DistContext:
    """The launch's ranks (torchrun environment); a plain `ahsd-train run` is rank 0 of 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    return DistContext(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def init(ctx: DistContext, device: torch.device) -> None:
    """Join the process group: gloo on CPU, NCCL on CUDA (one GPU per local rank)."""
    if not ctx.enabled or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(ctx.local_rank)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def shutdown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def world_size_warning(config_world_size: int, ctx: DistContext) -> str | None:
    """The validator judged BatchNorm on batch_size / priority_net.world_size; say if the launch differs."""
    if config_world_size == ctx.world_size:
        return None
    return (
        f"priority_net.world_size = {config_world_size} but the launch has WORLD_SIZE = "
        f"{ctx.world_size}: each replica sees batch_size / {ctx.world_size}, not the per-replica "
        f"batch the validator checked; set priority_net.world_size: {ctx.world_size}"
    )


def per_replica_batch(pn, ctx: DistContext) -> int:
    """Scenarios each replica trains on per step at this launch: the schema's one definition
    (`PriorityNetConfig.per_replica_batch`) with the launch's WORLD_SIZE, not the config's."""
    return pn.per_replica_batch(ctx.world_size)


def shard_indices(order: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This rank's part of an epoch's permutation (DistributedSampler: pad by wrapping, stride)."""
    if not ctx.enabled:
        return order
    n = order.numel()
    per_rank = -(-n // ctx.world_size)
    padded = torch.cat([order, order[: per_rank * ctx.world_size - n]])
    return padded[ctx.rank :: ctx.world_size]


def sync_batchnorm_note(sync_batchnorm: bool, has_batchnorm: bool, ctx: DistContext,
                        device: torch.device) -> str | None:
    """PyTorch's SyncBatchNorm runs on GPUs only: on CPU (gloo) each replica keeps its own statistics."""
    if sync_batchnorm and has_batchnorm and ctx.enabled and device.type != "cuda":
        return ("priority_net.sync_batchnorm is on but SyncBatchNorm needs CUDA; on CPU each replica's "
                "BatchNorm uses its own batch of batch_size / world_size")
    return None


def wrap(model: nn.Module, ctx: DistContext, device: torch.device, sync_batchnorm: bool,
         find_unused: bool) -> nn.Module:
    """DDP-wrap (SyncBatchNorm first when asked, the model has BatchNorm and runs on CUDA);
    identity when alone. `find_unused`: some branch is switched off (e.g. overlap attention)."""
    if not ctx.enabled:
        return model
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    if sync_batchnorm and has_bn and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [ctx.local_rank] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)


def all_sum(values: list[float], ctx: DistContext, device: torch.device) -> list[float]:
    """Element-wise sum over ranks (epoch loss sums, so rank 0 logs the global mean)."""
    if not ctx.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def any_flag(flag: bool, ctx: DistContext, device: torch.device) -> bool:
    """True on every rank when it is True on any rank (so all ranks stop together)."""
    if not ctx.enabled:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def barrier(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.barrier()
