"""Synthetic scenarios: deterministic from a seed, the user's labelling, batching, shards."""

from __future__ import annotations

import json
import math

import pytest
import torch

from ahsd_train.engine import normalization as nz
from ahsd_train.review.bench import project_config
from ahsd_train.engine.data import (
    FEATURE_NAMES,
    ScenarioBatch,
    SyntheticScenarioSource,
    iterate_batches,
    priority_labels,
    split,
)
from ahsd_train.errors import ShardError
from ahsd_train.engine.shards import read_shards, write_shards

CFG = project_config()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def source(seed=0, strain=False, **synthetic) -> SyntheticScenarioSource:
    data = CFG.data.model_copy(update={"synthetic": CFG.data.synthetic.model_copy(update={"strain_samples": 64, **synthetic})})
    return SyntheticScenarioSource(data, CFG.priority_net.model_copy(update={"use_strain": strain}), seed=seed)


def same(a: ScenarioBatch, b: ScenarioBatch) -> bool:
    ta, tb = a.tensors(), b.tensors()
    return ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)


def test_same_seed_same_scenarios_other_seed_or_offset_differs():
    a, b = source(seed=7, strain=True).generate(64), source(seed=7, strain=True).generate(64)
    assert same(a, b)
    assert not same(a, source(seed=8, strain=True).generate(64))
    assert not same(a, source(seed=7, strain=True, seed_offset=1).generate(64))


def test_shapes_masks_and_ranges():
    src = source(strain=True)
    batch = src.generate(300)
    B, S, F = batch.features.shape
    assert (B, F) == (300, len(FEATURE_NAMES)) and S == int(batch.n_signals.max())
    assert batch.strain.shape == (B, S, *src.strain_shape)
    assert torch.equal(batch.mask, torch.arange(S) < batch.n_signals[:, None])
    syn = CFG.data.synthetic
    assert batch.n_signals.min() >= syn.min_signals and batch.n_signals.max() <= syn.max_signals
    assert ((batch.priority >= 0) & (batch.priority <= 1)).all()
    assert (batch.priority[~batch.mask] == 0).all() and (batch.strain[~batch.mask] == 0).all()
    assert (batch.edge_type[~batch.mask] == 0).all()
    assert ((batch.edge_type[batch.mask] >= 1) & (batch.edge_type[batch.mask] < CFG.priority_net.n_edge_types)).all()
    # Overlaps on by default: about overlap_fraction of multi-signal scenarios merge within 0.5 s.
    assert abs(float(overlapped_fraction(batch)) - syn.overlap_fraction) < 0.1
    # Quiet signals (true SNR < 8) are labelled 0; the model's SNR column is the noisy estimate.
    assert (batch.priority[batch.mask & (batch.snr < 8)] == 0).all()
    est = nz.column(batch.features, "snr_estimate")[batch.mask]
    torch.testing.assert_close(est, batch.snr_estimate[batch.mask], rtol=1e-4, atol=1e-4)
    assert not torch.allclose(batch.snr_estimate[batch.mask], batch.snr[batch.mask])


def overlapped_fraction(batch: ScenarioBatch) -> torch.Tensor:
    t = nz.column(batch.features, "geocent_time")
    spread = torch.where(batch.mask, t, -1e9).amax(-1) - torch.where(batch.mask, t, 1e9).amin(-1)  # (B,)
    multi = batch.n_signals >= 2
    return (spread[multi] < 0.55).float().mean()


def test_without_overlaps_signals_are_well_separated():
    batch = source(create_overlaps=False).generate(200)
    assert (batch.n_signals >= 2).any()
    assert float(overlapped_fraction(batch)) == 0.0
    assert float(overlapped_fraction(source(overlap_fraction=1.0).generate(200))) == 1.0


def test_whitened_strain_is_unit_variance_noise_plus_signal():
    batch = source(strain=True).generate(200)
    quiet = batch.mask & (batch.snr < 3)
    assert float(batch.strain[quiet].std()) == pytest.approx(1.0, abs=0.1)
    loud = batch.mask & (batch.snr > 40)
    assert float(batch.strain[loud].pow(2).mean()) > float(batch.strain[quiet].pow(2).mean())


def test_priority_labels_follow_the_users_rules():
    snr = torch.tensor([[7.9, 10.0, 10.0, 10.0, 40.0]])
    q = torch.tensor([[1.0, 1.0, 9.0, 9.0, 9.0]])
    chi = torch.tensor([[0.0, 0.0, 0.0, 0.9, 0.9]])
    single = priority_labels(snr, q, chi)[0]
    assert float(single[0]) == 0.0  # below SNR 8
    level = lambda boosted: math.log1p(boosted / 8) / math.log1p(150 / 8)  # noqa: E731
    assert float(single[1]) == pytest.approx(level(10.0))
    assert float(single[2]) == pytest.approx(level(12.5))  # q > 8: +25 %
    assert float(single[3]) == pytest.approx(level(15.0))  # + spin: +50 %
    assert float(single[4]) == pytest.approx(level(60.0))  # three bonuses, capped at +50 %


def test_iterate_batches_covers_every_scenario_once_and_trims_padding():
    batch = source().generate(100)
    seen = []
    for mb in iterate_batches(batch, 32, shuffle=True, generator=torch.Generator().manual_seed(0)):
        assert mb.features.shape[1] == int(mb.n_signals.max())
        seen.append(mb.priority.sum(-1))
    assert len(seen) == 4
    torch.testing.assert_close(torch.cat(seen).sort().values, batch.priority.sum(-1).sort().values)
    order = lambda seed: [float(mb.priority.sum()) for mb in iterate_batches(batch, 10, True, torch.Generator().manual_seed(seed))]  # noqa: E731
    assert order(1) == order(1) and order(1) != order(2)


def test_split_sizes():
    train, val, test = split(source().generate(100), validation_split=0.15, test_split=0.05)
    assert (len(train), len(val), len(test)) == (80, 15, 5)


def test_shards_round_trip_without_pickle(tmp_path):
    batch = source(strain=True).generate(45)
    manifest = write_shards(batch, tmp_path / "ds", shard_size=20)
    meta = json.loads(manifest.read_text())
    assert meta["n_scenarios"] == 45 and [s["n_scenarios"] for s in meta["shards"]] == [20, 20, 5]
    assert meta["feature_names"] == list(FEATURE_NAMES)
    back = read_shards(tmp_path / "ds")
    assert same(back.trim(batch.features.shape[1]), batch)
    raw = (tmp_path / "ds" / "shard-00000.safetensors").read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert json.loads(raw[8 : 8 + header_len])["features"]["dtype"] == "F32"  # safetensors, not pickle


def test_corrupt_or_missing_shards_raise_shard_errors(tmp_path):
    with pytest.raises(ShardError, match="no manifest"):
        read_shards(tmp_path)
    write_shards(source().generate(10), tmp_path, shard_size=5)
    shard = tmp_path / "shard-00001.safetensors"
    shard.write_bytes(shard.read_bytes()[:-3] + b"xyz")
    with pytest.raises(ShardError, match="shard-00001.*sha256"):
        read_shards(tmp_path)
