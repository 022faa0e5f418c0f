"""The run's data: seeding, the train/val/test splits, and each epoch's scenario order.

Synthetic scenarios are the default (the test set from its own seed, `engine.benchmark.test_set`);
`--data DIR` reads safetensors shards and splits them. An epoch's order is a pure function of
(seed, epoch), sharded per replica, so a resume mid-epoch sees exactly the batches an uninterrupted
run would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ahsd_train.run import distributed as ddp

if TYPE_CHECKING:
    from ahsd_config.schema import TrainingConfig
    from ahsd_train.run.setup import Plan


@dataclass
class Splits:
    train: Any  # ScenarioBatch
    val: Any
    test: Any


def model_strain_shape(config: TrainingConfig, plan: Plan) -> tuple[int, int] | None:
    """The strain shape the model will be built for, known before any data is read: with `--data DIR`
    the dataset's (its manifest), else the synthetic generator's; None without strain."""
    if not config.priority_net.use_strain:
        return None
    if plan.data_dir:
        from ahsd_train.engine.shards import strain_shape_of

        return strain_shape_of(plan.data_dir)
    syn = config.data.synthetic
    return (syn.strain_detectors, syn.strain_samples)


def load_data(config: TrainingConfig, plan: Plan, device: torch.device) -> tuple[Splits, tuple | None]:
    """Synthetic scenarios (the default; the test set from its own seed) or `--data DIR` shards,
    split train/val/test; and the strain shape the model is built for (None without strain)."""
    from ahsd_train.engine.benchmark import test_set
    from ahsd_train.engine.data import SyntheticScenarioSource, split

    strain_shape = None
    if plan.data_dir:
        from ahsd_train.engine.shards import read_shards

        data = read_shards(plan.data_dir)
        check_edge_types(data, config, plan.data_dir)
        data = data.to(device)
        if config.priority_net.use_strain and data.strain is not None:
            strain_shape = tuple(data.strain.shape[2:])
    else:
        source = SyntheticScenarioSource(config.data, config.priority_net, config.random_seed, device)
        data, strain_shape = source.generate(plan.n_scenarios), source.strain_shape
        train, val, _ = split(data, config.data.validation_split, 0.0)
        return Splits(train, val, test_set(config, plan.n_test, device)), strain_shape
    train, val, test = split(data, config.data.validation_split, config.data.test_split)
    return Splits(train, val, test), strain_shape


def check_edge_types(data, config: TrainingConfig, where: str) -> None:
    """A dataset's edge-case ids must have rows in the model's edge embedding (the synthetic source
    clamps its own to `n_edge_types - 1`; a dataset made with another config may not)."""
    from ahsd_train.errors import ModelInputError

    pn = config.priority_net
    if pn.use_edge_conditioning and len(data) and int(data.edge_type.max()) >= pn.n_edge_types:
        raise ModelInputError(f"{where}: edge_type ids reach {int(data.edge_type.max())}, but "
                              f"priority_net.n_edge_types = {pn.n_edge_types} gives the edge embedding "
                              f"rows 0..{pn.n_edge_types - 1}; raise n_edge_types or regenerate the dataset")


def epoch_training_data(config: TrainingConfig, plan: Plan, data: Splits, epoch: int, device: torch.device):
    """This epoch's training scenarios: fresh ones from the epoch's seed (data.synthetic.fresh_each_epoch)."""
    from ahsd_train.engine.benchmark import fresh_training_scenarios

    if epoch == 0 or plan.data_dir or not config.data.synthetic.fresh_each_epoch:
        return data.train
    return fresh_training_scenarios(config, len(data.train), epoch, device)


def epoch_order(n: int, seed: int, epoch: int, ctx: ddp.DistContext) -> torch.Tensor:
    """This rank's scenario order for `epoch`: a pure function of (seed, epoch), so a resume mid-epoch
    sees exactly the batches an uninterrupted run would."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return ddp.shard_indices(torch.randperm(n, generator=g), ctx)


def epoch_batches(n: int, seed: int, epoch: int, ctx: ddp.DistContext, batch: int) -> list[torch.Tensor]:
    """This rank's index batches of `epoch`, `batch` scenarios each (the last may be shorter)."""
    order = epoch_order(n, seed, epoch, ctx)
    return [order[i:i + batch] for i in range(0, len(order), batch)]


def seed_everything(seed: int, device: torch.device) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
