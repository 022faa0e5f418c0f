"""A short seeded training on synthetic scenarios learns to rank, better than sorting by SNR."""

from __future__ import annotations

import pytest
import torch

from ahsd_train.engine import normalization as nz
from ahsd_train.review.bench import project_config
from ahsd_train.engine.data import SyntheticScenarioSource, iterate_batches
from ahsd_train.engine.loss import PriorityLoss
from ahsd_train.engine.metrics import evaluate
from ahsd_train.engine.model import PriorityNet


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_short_training_beats_untrained_model_and_snr_sort_baseline():
    cfg = project_config()
    # Metadata-only and narrower than the shipped widths so the test takes seconds on two cores;
    # a larger learning rate than the config's, for the same reason.
    pn = cfg.priority_net.model_copy(update={"use_strain": False, "hidden_dims": (128, 64)})
    torch.manual_seed(0)
    train = SyntheticScenarioSource(cfg.data, pn, seed=1).generate(2048)
    test = SyntheticScenarioSource(cfg.data, pn, seed=2).generate(1024)
    model = PriorityNet(pn, len(nz.FEATURE_NAMES))
    loss_fn = PriorityLoss(pn)

    def metrics():
        model.eval()
        with torch.no_grad():
            out = model(test)
        model.train()
        return evaluate(out.priority, test, out.uncertainty)

    before = metrics()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=pn.weight_decay)
    shuffle = torch.Generator().manual_seed(0)
    for _ in range(4):  # 4 epochs x 64 steps
        for batch in iterate_batches(train, 32, shuffle=True, generator=shuffle):
            loss = loss_fn(model(batch), batch)
            opt.zero_grad(set_to_none=True)
            loss.total.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), pn.gradient_clip_norm)
            opt.step()
    after = metrics()
    # the head starts from the SNR estimate (model.SNR_SKIP_INIT), so the untrained model is already SNR-like
    assert after["kendall_tau"] > before["kendall_tau"] + 0.1
    assert after["pairwise_accuracy"] > after["snr_baseline_pairwise_accuracy"] + 0.005
    assert after["kendall_tau"] > after["snr_baseline_kendall_tau"]
