"""PriorityNet: batched overlap features and forward equal the naive reference; single-signal
scenarios and padding are handled; the model is built only from what the config enables."""

from __future__ import annotations

import math

import pytest
import torch

from ahsd_train.engine import naive
from ahsd_train.engine import normalization as nz
from ahsd_train.review.bench import project_config
from ahsd_train.engine.data import ScenarioBatch, SyntheticScenarioSource
from ahsd_train.errors import ModelInputError
from ahsd_train.engine.loss import PriorityLoss
from ahsd_train.engine.model import PriorityNet, pair_features, partner_mask

CFG = project_config()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def pn(**changes):
    """The shipped priority_net section, metadata-only unless a test turns strain on."""
    return CFG.priority_net.model_copy(update={"use_strain": False, **changes})


def data_cfg(**synthetic):
    return CFG.data.model_copy(update={"synthetic": CFG.data.synthetic.model_copy(update=synthetic)})


def double(batch: ScenarioBatch) -> ScenarioBatch:
    return batch._map(lambda t: t.double() if t.is_floating_point() else t)


def generate(n: int, seed: int = 0, strain: bool = False, **synthetic) -> tuple:
    cfg = pn(use_strain=strain)
    source = SyntheticScenarioSource(data_cfg(strain_samples=64, **synthetic), cfg, seed=seed)
    return cfg, source, source.generate(n)


def test_pair_features_equal_the_per_pair_reference():
    _, _, batch = generate(6, max_signals=12)
    batch = double(batch)
    fast = pair_features(batch.features)  # (B, S, S, 9)
    for b in range(len(batch)):
        rows = naive.physical_rows(batch.features[b, : int(batch.n_signals[b])])
        for i, row_i in enumerate(rows):
            for j, row_j in enumerate(rows):
                if i != j:
                    ref = torch.tensor(naive.pair_feature_list(row_i, row_j), dtype=torch.float64)
                    torch.testing.assert_close(fast[b, i, j], ref, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize("use_attention", [True, False])
def test_overlap_analyzer_equals_the_naive_loop(use_attention):
    cfg, _, batch = generate(8, seed=1, max_signals=32, min_signals=1)
    torch.manual_seed(0)
    model = PriorityNet(pn(overlap_use_attention=use_attention), len(nz.FEATURE_NAMES)).double().eval()
    batch = double(batch)
    fast = model.overlap(batch.features, batch.mask)  # (B, S, 16)
    for b in range(len(batch)):
        n = int(batch.n_signals[b])
        ref = naive.overlap_features(model.overlap, batch.features[b, :n])
        torch.testing.assert_close(fast[b, :n], ref, atol=1e-5, rtol=1e-5)
        assert (fast[b, n:] == 0).all()


@pytest.mark.parametrize("strain", [False, True])
def test_batched_forward_and_loss_equal_per_scenario_naive(strain):
    cfg, source, batch = generate(6, seed=2, strain=strain, max_signals=10)
    torch.manual_seed(0)
    model = PriorityNet(cfg, len(nz.FEATURE_NAMES), source.strain_shape).double().eval()
    batch = double(batch)
    out = model(batch)
    outs = naive.forward(model, batch)
    for b, o in enumerate(outs):
        n = int(batch.n_signals[b])
        torch.testing.assert_close(out.priority[b, :n], o.priority[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out.uncertainty[b, :n], o.uncertainty[0], atol=1e-5, rtol=1e-5)
    fast = PriorityLoss(cfg)(out, batch)
    ref = naive.loss(cfg, outs, batch)
    assert float(fast.total.detach()) == pytest.approx(float(ref["total"].detach()), rel=1e-5, abs=1e-10)


def test_single_signal_scenarios_have_zero_overlap_and_finite_outputs_and_grads():
    cfg, source, batch = generate(16, seed=3, strain=True, min_signals=1, max_signals=1)
    assert (batch.n_signals == 1).all()
    torch.manual_seed(0)
    model = PriorityNet(cfg, len(nz.FEATURE_NAMES), source.strain_shape).train()
    assert (model.overlap(batch.features, batch.mask) == 0).all()
    out = model(batch)
    assert torch.isfinite(out.priority).all() and torch.isfinite(out.uncertainty).all()
    loss = PriorityLoss(cfg)(out, batch)
    loss.total.backward()
    for name, p in model.named_parameters():
        assert p.grad is None or torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("train_mode", [False, True])
def test_padding_slots_do_not_change_outputs_or_loss(train_mode):
    # Train mode with dropout off: BatchNorm statistics must come from real signals only.
    cfg = pn(use_strain=True, dropout=0.0, attention_dropout=0.0)
    source = SyntheticScenarioSource(data_cfg(strain_samples=64), cfg, seed=4)
    batch = source.generate(12)
    torch.manual_seed(0)
    model = PriorityNet(cfg, len(nz.FEATURE_NAMES), source.strain_shape).train(train_mode)
    wide = batch.pad(batch.features.shape[1] + 3)
    out, out_wide = model(batch), model(wide)
    S = batch.features.shape[1]
    torch.testing.assert_close(out.priority, out_wide.priority[:, :S], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.uncertainty, out_wide.uncertainty[:, :S], atol=1e-5, rtol=1e-5)
    assert (out_wide.priority[:, S:] == 0).all()
    loss, loss_wide = PriorityLoss(cfg)(out, batch), PriorityLoss(cfg)(out_wide, wide)
    assert float(loss.total.detach()) == pytest.approx(float(loss_wide.total.detach()), rel=1e-5)


def test_fusion_is_sized_from_the_enabled_modalities():
    F = len(nz.FEATURE_NAMES)
    widths = {
        (False, False): 64 + 32 + 16 + 32,
        (False, True): 64 + 32 + 16 + 32 + 16,
        (True, True): 64 + 32 + 16 + 32 + 16 + 64,
    }
    for (strain, edge), width in widths.items():
        model = PriorityNet(pn(use_strain=strain, use_edge_conditioning=edge), F, (2, 64) if strain else None)
        assert model.fuse[0].in_features == width
        assert model.has_batchnorm() is strain
        assert (model.edge is not None) is edge


@pytest.mark.parametrize("transformer", [False, True])
def test_strain_encoder_variants_train(transformer):
    cfg, source, batch = generate(8, seed=5, strain=True)
    cfg = cfg.model_copy(update={"use_transformer_encoder": transformer})
    model = PriorityNet(cfg, len(nz.FEATURE_NAMES), source.strain_shape)
    assert isinstance(model.strain.seq, torch.nn.TransformerEncoder if transformer else torch.nn.LSTM)
    PriorityLoss(cfg)(model(batch), batch).total.backward()
    assert model.strain.cnn[0][0].weight.grad.abs().sum() > 0


def test_config_values_reach_the_model():
    cfg = pn(hidden_dims=[48, 40], importance_hidden_dim=12, n_edge_types=7, output_bias_init=0.3, affine_gain_min=1.2, affine_gain_max=2.5)
    model = PriorityNet(cfg, len(nz.FEATURE_NAMES))
    assert model.extractor.embed.out_features == 48 and model.extractor.blocks[0].proj.out_features == 40
    assert model.overlap.importance[0].out_features == 12
    assert model.edge.num_embeddings == 7 and model.edge.padding_idx == 0
    assert model.head[-1].bias.item() == pytest.approx(0.3)
    assert model.gain.item() == pytest.approx(1.2)  # identity gain pulled into [1.2, 2.5]


def test_invalid_combinations_raise_model_input_errors():
    F = len(nz.FEATURE_NAMES)
    with pytest.raises(ModelInputError, match="attention_num_heads = 5"):
        PriorityNet(pn(attention_num_heads=5), F)
    with pytest.raises(ModelInputError, match="use_strain"):
        PriorityNet(pn(use_strain=True), F, None)
    with pytest.raises(ModelInputError, match="strain_samples"):
        PriorityNet(pn(use_strain=True), F, (2, 4))
    _, _, batch = generate(2)
    with pytest.raises(ModelInputError, match="feature columns"):
        PriorityNet(pn(), F + 1)(batch)


def test_normalisation_round_trips_and_inverts_logs_with_exp():
    phys = torch.tensor([[35.0, 20.0, 800.0, 1.0, -0.3, 2.0, 0.5, 3.0, 1.5, 0.9, -0.2, 24.0]], dtype=torch.float64)
    feats = nz.normalize(phys)
    torch.testing.assert_close(nz.to_physical(feats), phys)
    assert float(nz.column(feats, "luminosity_distance")) == pytest.approx(800.0)
    assert float(feats[0, nz.FEATURE_INDEX["luminosity_distance"]]) == pytest.approx(math.log(800 / 200))


def test_partner_mask_excludes_self_and_padding():
    mask = torch.tensor([[True, True, False], [True, False, False]])
    pm = partner_mask(mask)
    assert pm[0].tolist() == [[False, True, False], [True, False, False], [False, False, False]]
    assert not pm[1].any()


def test_meta_device_preflight_runs_forward_loss_and_backward():
    """The trainer's preflight builds the model on the meta device and pushes one batch of shapes."""
    cfg, source, batch = generate(4, strain=True)
    with torch.device("meta"):
        model = PriorityNet(cfg, len(nz.FEATURE_NAMES), source.strain_shape)
    meta = batch.to("meta")
    out = model(meta)
    assert out.priority.shape == batch.mask.shape and out.priority.device.type == "meta"
    PriorityLoss(cfg)(out, meta).total.backward()
