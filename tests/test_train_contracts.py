"""Contracts the run keeps with its readers: the typed records' JSON (metrics.jsonl, PRODUCT.md),
reading back what a crashed or hand-edited run left, and the ONE per-replica batch definition."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ahsd_train.review.bench import project_config
from ahsd_train.run import distributed as ddp
from ahsd_train.run.records import EpochRecord, StepRecord, from_json
from ahsd_train.run.runlog import to_json_safe

# metrics.jsonl's lines, key for key in this order (what runs wrote before the records were typed)
BASE_PN = project_config().priority_net
STEP_KEYS = ["kind", "epoch", "batch", "step", "loss", "components", "weighted", "grad_norm", "clipped",
             "lr", "scenarios_per_s", "nonfinite", "spike", "bn_eval", "skipped"]
EPOCH_KEYS = ["kind", "epoch", "step", "train_loss", "grad_norm_mean", "clipped_fraction", "val_loss", "val",
              "lr", "best", "scenarios_per_s", "seconds"]


def test_record_json_keeps_the_metrics_jsonl_layout():
    assert list(StepRecord().to_json()) == STEP_KEYS
    assert list(EpochRecord().to_json()) == EPOCH_KEYS
    step = StepRecord(epoch=1, batch=2, step=9, loss=0.5, components={"mse": 0.25}, weighted={"mse": 0.5},
                      grad_norm=1.5, clipped=True, lr=1e-3, scenarios_per_s=100.0, bn_eval=["bn1"])
    assert json.dumps(to_json_safe(step.to_json())) == (
        '{"kind": "step", "epoch": 1, "batch": 2, "step": 9, "loss": 0.5, "components": {"mse": 0.25}, '
        '"weighted": {"mse": 0.5}, "grad_norm": 1.5, "clipped": true, "lr": 0.001, "scenarios_per_s": 100.0, '
        '"nonfinite": null, "spike": false, "bn_eval": ["bn1"], "skipped": false}')


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
maybe_nan = st.one_of(finite, st.just(float("nan")))
names = st.sampled_from(["mse", "ranking", "uncertainty", "min_variance"])


@settings(max_examples=60, deadline=None)
@given(epoch=st.integers(0, 10**6), batch=st.integers(0, 10**6), step=st.integers(0, 10**9), loss=maybe_nan,
       comps=st.dictionaries(names, maybe_nan), grad=maybe_nan, clipped=st.booleans(),
       nonfinite=st.one_of(st.none(), st.text(max_size=20)), bn=st.lists(st.text(max_size=8), max_size=3))
def test_a_step_record_reads_back_as_it_was_written(epoch, batch, step, loss, comps, grad, clipped, nonfinite, bn):
    """Through JSON (NaN is written as null) and back: the same record, NaN for NaN."""
    rec = StepRecord(epoch=epoch, batch=batch, step=step, loss=loss, components=comps, weighted=comps,
                     grad_norm=grad, clipped=clipped, lr=1e-3, scenarios_per_s=5.0, nonfinite=nonfinite,
                     bn_eval=bn)
    back = from_json(json.loads(json.dumps(to_json_safe(rec.to_json()))))
    assert isinstance(back, StepRecord)
    same = lambda a, b: (math.isnan(a) and math.isnan(b)) or a == b  # noqa: E731
    assert (back.epoch, back.batch, back.step, back.clipped, back.nonfinite, back.bn_eval) == \
        (epoch, batch, step, clipped, nonfinite, bn)
    assert same(back.loss, loss) and same(back.grad_norm, grad)
    assert back.components.keys() == comps.keys() and all(same(back.components[k], v) for k, v in comps.items())


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["step", "epoch", "other", None]),
       fields=st.dictionaries(st.sampled_from(STEP_KEYS + EPOCH_KEYS), json_values, max_size=8))
def test_reading_any_json_line_gives_a_record_or_none_never_an_error(kind, fields):
    """doctor reads what a crashed or hand-edited run left: a line is a record of its kind or skipped."""
    got = from_json({**fields, "kind": kind})
    expected = {"step": StepRecord, "epoch": EpochRecord}.get(kind)
    assert got is None or type(got) is expected


def test_a_partial_record_takes_the_defaults():
    rec = from_json({"kind": "step", "step": 3, "grad_norm": 2.0})
    assert (rec.step, rec.epoch, rec.grad_norm, rec.clipped, rec.nonfinite, rec.weighted) == (3, 0, 2.0, False, None, {})
    assert math.isnan(rec.loss)
    assert from_json({"kind": "epoch", "epoch": "x"}) is None  # a non-integer epoch is not a record
    assert from_json([1]) is None and from_json("x") is None


@settings(max_examples=80, deadline=None)
@given(batch=st.integers(1, 4096), config_world=st.integers(1, 64), launch_world=st.integers(1, 64),
       sync=st.booleans())
def test_one_per_replica_batch_for_the_rule_and_the_launch(batch, config_world, launch_world, sync):
    """The schema defines it once; the trainer (the launch's world size) and AHSD101 (the config's,
    via batchnorm_batch) both read that definition."""
    from ahsd_config.rules.optimisation import per_replica_batch as rule_batch

    pn = BASE_PN.model_copy(update={"batch_size": batch, "world_size": config_world, "sync_batchnorm": sync})
    launch = ddp.DistContext(0, launch_world, 0)
    assert ddp.per_replica_batch(pn, launch) == pn.per_replica_batch(launch_world) == max(1, batch // launch_world)
    assert rule_batch(pn) == (batch if sync else pn.per_replica_batch()) == (batch if sync else max(1, batch // config_world))
    if launch_world == config_world:  # a launch that matches the config trains on what the rule judged
        assert sync or ddp.per_replica_batch(pn, launch) == rule_batch(pn)


def test_the_loop_state_round_trips_through_a_checkpoint_payload():
    """`progress` in a checkpoint: primitives only (weights_only loading), read back equal; a state
    saved before the first epoch started (empty sums) reads back with zero sums."""
    from ahsd_train.run.state import EpochSums, LoopState

    state = LoopState(epoch=2, batch=3, step=40, best_val_loss=0.25, bad_epochs=1)
    state.sums.add(0.5, 1.5, True, 32)
    payload = state.to_state()
    assert payload == {"epoch": 2, "batch": 3, "step": 40, "best_val_loss": 0.25, "bad_epochs": 1,
                       "early_stopped": False, "sums": {"loss": 0.5, "grad": 1.5, "n": 1, "clipped": 1, "scen": 32}}
    assert LoopState.from_state(payload) == state
    assert LoopState.from_state({**payload, "sums": {}}).sums == EpochSums()
