"""AHSD3xx: data — splits and the embedded synthetic generator must leave something to train on."""

from __future__ import annotations

from typing import Iterator

from ahsd_config.rules.registry import RuleContext, Violation, rule


def training_fraction(data) -> float:
    """Share of scenarios left for training after the validation and test splits."""
    return 1.0 - data.validation_split - data.test_split


@rule(
    code="AHSD301",
    severity="error",
    title="validation and test splits leave no training data",
    why="The validation and test fractions are carved out of the same scenarios; if they add up "
    "to 1 or more nothing is left to train on.",
    fix="Keep `data.validation_split + data.test_split` well below 1 (0.15 + 0.05).",
    bad="data:\n  validation_split: 0.6\n  test_split: 0.4\n",
    good="data:\n  validation_split: 0.15\n  test_split: 0.05\n",
    needs=("data",),
)
def check_splits_leave_training_data(ctx: RuleContext) -> Iterator[Violation]:
    data = ctx.section("data")
    if training_fraction(data) <= 0:
        total = data.validation_split + data.test_split
        yield Violation(
            ("data", "validation_split"),
            f"data.validation_split + data.test_split = {data.validation_split:g} + "
            f"{data.test_split:g} = {total:g}, not below 1: no scenarios are left for training",
            hint="e.g. validation_split 0.15, test_split 0.05",
        )


@rule(
    code="AHSD302",
    severity="error",
    title="training split smaller than one batch",
    why="`data.synthetic.n_scenarios` x the training fraction is what one epoch trains on; fewer "
    "scenarios than `priority_net.batch_size` means no full batch, so an epoch takes no step "
    "(or one tiny, noisy one).",
    fix="Raise `data.synthetic.n_scenarios` (or lower the batch size) so the training split holds "
    "many batches.",
    bad="data:\n  synthetic:\n    n_scenarios: 16\n",
    good="data:\n  synthetic:\n    n_scenarios: 4096\n",
    needs=("data", "priority_net"),
)
def check_training_split_holds_a_batch(ctx: RuleContext) -> Iterator[Violation]:
    data, batch = ctx.section("data"), ctx.priority_net.batch_size
    fraction = training_fraction(data)
    if fraction <= 0:
        return  # AHSD301 says so
    train = int(data.synthetic.n_scenarios * fraction)
    if train < batch:
        yield Violation(
            ("data", "synthetic", "n_scenarios"),
            f"data.synthetic.n_scenarios = {data.synthetic.n_scenarios} leaves {train} training "
            f"scenarios, fewer than priority_net.batch_size = {batch}",
            hint=f"use n_scenarios >= {int(batch * 10 / fraction) + 1} (ten batches)",
        )


@rule(
    code="AHSD303",
    severity="warning",
    title="overlaps requested but scenarios hold one signal",
    why="PriorityNet exists to order overlapping signals; with `max_signals: 1` no scenario can "
    "overlap, so `create_overlaps` does nothing and the ranking loss has no pairs to learn from.",
    fix="Set `data.synthetic.max_signals` >= 2 (default 8), or `create_overlaps: false` on purpose.",
    bad="data:\n  synthetic:\n    max_signals: 1\n    create_overlaps: true\n",
    good="data:\n  synthetic:\n    max_signals: 8\n    create_overlaps: true\n",
    needs=("data",),
)
def check_overlaps_possible(ctx: RuleContext) -> Iterator[Violation]:
    synthetic = ctx.section("data").synthetic
    if synthetic.create_overlaps and synthetic.max_signals < 2:
        yield Violation(
            ("data", "synthetic", "max_signals"),
            f"data.synthetic.max_signals = {synthetic.max_signals} with create_overlaps: true: a "
            f"scenario needs >= 2 signals to overlap",
            hint="use max_signals >= 2",
        )
