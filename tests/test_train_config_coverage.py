"""Every `priority_net` key changes what `ahsd-train` builds or does, or is marked unused.

For each field of `PriorityNetConfig` a perturbation is applied to a small base config and the
trainer's own building blocks are fingerprinted: the data, the model (structure, initial weights,
a seeded train-mode forward), the loss (total and components), the optimizer (one clipped step),
the LR schedule (warm-up then plateau on a fixed validation-loss sequence), early stopping, the
per-replica batch and the distributed set-up. A key whose perturbation changes none of them is
dead, and must instead carry the schema's `x-ahsd-unused` mark (so `validate` reports it as info).
Single-choice keys (`scheduler`) cannot be perturbed within the schema: other values are
validation errors, which is checked instead.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import torch
from pydantic import ValidationError

from ahsd_config.api import load_config
from ahsd_config.schema import PriorityNetConfig, unused_by_trainer
from ahsd_train.run import distributed as ddp
from ahsd_train.run import optim, setup
from ahsd_train.engine.data import SyntheticScenarioSource
from ahsd_train.engine.loss import PriorityLoss
from ahsd_train.engine.model import PriorityNet
from test_train_support import CONFIG

# key -> (perturbed value, other keys to set first so the key is in play)
PERTURB: dict[str, tuple[Any, dict[str, Any]]] = {
    "hidden_dims": ((24, 12), {}),
    "dropout": (0.05, {}),
    "importance_hidden_dim": (8, {}),
    "use_strain": (False, {}),
    "use_edge_conditioning": (False, {}),
    "use_pair_features": (False, {}),
    "snr_skip_input": ("snr_estimate", {}),  # the project config starts from effective_snr (v261130)
    "n_edge_types": (25, {}),
    "use_transformer_encoder": (True, {}),
    "optimizer": ("Adam", {}),
    "learning_rate": (1e-4, {}),
    "weight_decay": (0.1, {}),
    "batch_size": (48, {}),
    "epochs": (7, {}),
    "patience": (3, {}),
    "warmup_epochs": (2, {}),
    "warmup_start_factor": (0.5, {}),
    "scheduler_patience": (2, {}),
    "scheduler_factor": (0.3, {}),
    "scheduler_threshold": (1e-4, {}),
    "min_lr": (5e-6, {}),
    "ranking_weight": (0.5, {}),
    "mse_weight": (0.3, {}),
    "uncertainty_weight": (0.05, {}),
    "use_snr_weighting": (False, {}),
    "loss_scale_factor": (0.01, {}),
    "uncertainty_lower_bound": (0.9, {}),  # above the initial uncertainty (~0.7), so it bites
    "uncertainty_upper_bound": (0.05, {}),
    "uncertainty_bounds_weight": (0.5, {}),
    "output_bias_init": (0.3, {}),
    "output_weight_std": (0.02, {}),
    "calib_mean_weight": (0.1, {}),
    "calib_max_weight": (0.1, {}),
    "calib_range_weight": (0.1, {}),
    "affine_gain_min": (1.3, {}),
    "affine_gain_max": (1.1, {}),
    "affine_bias_min": (0.01, {}),
    "affine_bias_max": (-0.3, {}),
    "min_variance_penalty_weight": (10.0, {}),
    "normalize_loss_by_components": (True, {}),
    "gradient_clip_norm": (1e-4, {}),
    "label_smoothing": (0.2, {}),
    "attention_num_heads": (4, {}),
    "attention_dropout": (0.0, {}),
    "overlap_use_attention": (False, {}),
    # read only when importance_hidden_dim is absent (the schema says so)
    "overlap_importance_hidden": (8, {"importance_hidden_dim": None}),
    "world_size": (2, {}),
    "sync_batchnorm": (True, {}),
}
SINGLE_CHOICE = {"scheduler": "CosineAnnealingLR"}
VAL_LOSSES = [0.9995**k for k in range(30)] + [1.0] * 30  # 0.05 % better per epoch, then flat


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def base():
    cfg = load_config(CONFIG).config
    syn = cfg.data.synthetic.model_copy(update={"strain_samples": 32, "max_signals": 6})
    pn = cfg.priority_net.model_copy(update={"hidden_dims": (32, 16), "use_strain": True})
    return cfg.model_copy(update={"priority_net": pn, "data": cfg.data.model_copy(update={"synthetic": syn})})


def digest(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().double().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


_CACHE: dict[str, dict[str, Any]] = {}


def fingerprint(cfg) -> dict[str, Any]:
    key = cfg.model_dump_json()
    if key not in _CACHE:
        _CACHE[key] = _fingerprint(cfg)
    return _CACHE[key]


def _fingerprint(cfg) -> dict[str, Any]:
    pn = cfg.priority_net
    source = SyntheticScenarioSource(cfg.data, pn, cfg.random_seed, "cpu")
    batch = source.generate(16)
    torch.manual_seed(0)
    model = PriorityNet(pn, batch.features.shape[-1], source.strain_shape).train()
    init = digest(*model.state_dict().values())
    out = model(batch)
    loss = PriorityLoss(pn, check_finite=False)(out, batch)
    opt = optim.build_optimizer(pn, model.parameters())
    loss.total.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), pn.gradient_clip_norm)
    opt.step()
    sched_opt = optim.build_optimizer(pn, [torch.nn.Parameter(torch.zeros(1))])
    warmup, plateau, warmup_steps = optim.build_schedulers(pn, sched_opt, steps_per_epoch=3)
    lrs = []
    for epoch, val in enumerate(VAL_LOSSES):
        for _ in range(3):
            lrs.append(sched_opt.param_groups[0]["lr"])
            sched_opt.step()
            if len(lrs) <= warmup_steps:
                warmup.step()
        if epoch + 1 >= pn.warmup_epochs:
            plateau.step(val)
    stops = [k for k in range(1, 30) if optim.early_stopping_due(k, pn, cfg.monitoring)][:1]
    two = ddp.DistContext(0, 2, 0)
    return {
        "data": digest(*batch.tensors().values()),
        "model": (str(model), init, digest(out.priority, out.uncertainty)),
        "loss": digest(loss.total, *loss.components.values(), *loss.weighted.values()),
        "optimizer_step": digest(*model.parameters()),
        "schedule": tuple(round(x, 15) for x in lrs),
        "early_stop": stops,
        "plan": setup.make_plan(cfg, setup.RunOptions()).epochs,
        "batch": (ddp.per_replica_batch(pn, two), ddp.per_replica_batch(pn, ddp.DistContext())),
        "distributed": (ddp.world_size_warning(pn.world_size, ddp.DistContext()),
                        ddp.sync_batchnorm_note(pn.sync_batchnorm, model.has_batchnorm(), two, torch.device("cpu"))),
    }


def test_every_priority_net_key_is_covered_or_marked_unused():
    unused = {k.split(".", 1)[1] for k in unused_by_trainer() if k.startswith("priority_net.")}
    fields = set(PriorityNetConfig.model_fields)
    missing = fields - set(PERTURB) - set(SINGLE_CHOICE) - unused
    assert not missing, f"priority_net keys with no perturbation and no unused mark: {sorted(missing)}"
    assert not (set(PERTURB) & unused), "a key marked unused is perturbed: drop one of the two"


@pytest.mark.parametrize("key", sorted(PERTURB))
def test_perturbing_a_key_changes_what_the_trainer_builds(base, key):
    value, setup = PERTURB[key]
    start = base.model_copy(update={"priority_net": base.priority_net.model_copy(update=setup)})
    changed = start.model_copy(update={"priority_net": start.priority_net.model_copy(update={key: value})})
    assert getattr(start.priority_net, key) != value
    before, after = fingerprint(start), fingerprint(changed)
    effects = [part for part in before if before[part] != after[part]]
    assert effects, f"priority_net.{key} -> {value!r} changed nothing the trainer builds or does"


@pytest.mark.parametrize("key", sorted(SINGLE_CHOICE))
def test_unsupported_choices_are_validation_errors(base, key):
    data = base.priority_net.model_dump()
    data[key] = SINGLE_CHOICE[key]
    with pytest.raises(ValidationError):
        PriorityNetConfig.model_validate(data)


def test_unsupported_optimizer_is_a_validation_error(base):
    data = base.priority_net.model_dump()
    data["optimizer"] = "SGD"
    with pytest.raises(ValidationError):
        PriorityNetConfig.model_validate(data)
