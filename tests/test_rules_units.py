"""Rule units: the loss arithmetic, graded severities, exact messages, YAML 1.1 rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from ahsd_config.input.loader import load_text
from ahsd_config.rules._examples import apply_fragment
from ahsd_config.rules.hygiene import yaml11_difference, yaml11_float_rewrite
from ahsd_config.rules.optimisation import (
    active_loss_components,
    clip_floor,
    penalty_sum,
    per_replica_batch,
    primary_sum,
)
from ahsd_config.schema import TrainingConfig
from ahsd_config.api.validate import validate_document

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
PROJECT = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
BASE = apply_fragment(PROJECT, (FIXTURES / "base_adjustments.yaml").read_text(encoding="utf-8"))


def variant(fragment: str) -> str:
    return apply_fragment(BASE, fragment)


def found(fragment: str, code: str):
    report = validate_document(load_text(variant(fragment), "v.yaml"))
    return [f for f in report.findings if f.code == code]


def priority(fragment: str):
    doc = load_text(variant(fragment), "v.yaml")
    return TrainingConfig.model_validate(doc.plain()).priority_net


# --- pure arithmetic -------------------------------------------------------------------------

SEED = ("priority_net:\n  ranking_weight: 0.70\n  mse_weight: 0.20\n  uncertainty_weight: 0.35\n"
        "  calib_mean_weight: 0.30\n  calib_max_weight: 2.50\n  calib_range_weight: 2.00\n"
        "  min_variance_penalty_weight: 10.0\n  uncertainty_bounds_weight: 0.05\n")


def test_seed_sums():
    pn = priority(SEED)
    assert primary_sum(pn) == pytest.approx(1.25)
    assert penalty_sum(pn) == pytest.approx(14.85)
    assert active_loss_components(pn) == 8
    assert clip_floor(pn) == pytest.approx(4.0)


def test_zero_weights_are_not_active_components():
    pn = priority("priority_net:\n  uncertainty_bounds_weight: 0.0\n  calib_mean_weight: 0.0\n")
    assert active_loss_components(pn) == 6
    assert clip_floor(pn) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("priority_net:\n  batch_size: 24\n", 24.0),
        ("priority_net:\n  batch_size: 24\n  world_size: 4\n", 6.0),
        ("priority_net:\n  batch_size: 24\n  world_size: 4\n  sync_batchnorm: true\n", 24.0),
    ],
)
def test_per_replica_batch(fragment, expected):
    assert per_replica_batch(priority(fragment)) == expected


# --- AHSD101 ---------------------------------------------------------------------------------


def test_batch_6_is_the_style_guide_message():
    [finding] = found("priority_net:\n  batch_size: 6\n", "AHSD101")
    assert finding.severity == "error"
    assert finding.message == (
        "priority_net.batch_size = 6 is below 8, the smallest batch BatchNorm gets usable statistics "
        "from; use >= 16 (24 fixed the Nov 15 run)")


def test_batch_12_is_a_warning():
    [finding] = found("priority_net:\n  batch_size: 12\n", "AHSD101")
    assert finding.severity == "warning"


def test_batch_is_judged_per_replica():
    [finding] = found("priority_net:\n  batch_size: 24\n  world_size: 4\n", "AHSD101")
    assert finding.severity == "error"
    assert "over world_size = 4 replicas gives 6 per replica" in finding.message


def test_sync_batchnorm_sees_the_whole_batch():
    assert found("priority_net:\n  batch_size: 24\n  world_size: 4\n  sync_batchnorm: true\n", "AHSD101") == []


def test_no_strain_encoder_no_batchnorm_rule():
    assert found("priority_net:\n  batch_size: 6\n  use_strain: false\n", "AHSD101") == []


# --- AHSD102 / 103 / 104 ----------------------------------------------------------------------


def test_clip_below_floor_warns_with_component_count():
    [finding] = found("priority_net:\n  gradient_clip_norm: 2.0\n", "AHSD102")
    assert finding.severity == "warning"
    assert finding.message == ("priority_net.gradient_clip_norm = 2.0 is below 4.0 (0.5 x 8 active loss "
                               "components): it suppresses legitimate gradients")


def test_clip_above_50_warns_effectively_off():
    [finding] = found("priority_net:\n  gradient_clip_norm: 80.0\n", "AHSD102")
    assert finding.severity == "warning" and "effectively off" in finding.message


def test_clip_at_floor_is_quiet():
    assert found("priority_net:\n  gradient_clip_norm: 4.0\n", "AHSD102") == []


# --- AHSD108 -----------------------------------------------------------------------------------


def test_loss_scale_that_makes_the_clip_inert_names_the_unit_scale_clip_and_the_fix():
    [finding] = found("priority_net:\n  loss_scale_factor: 0.002\n  gradient_clip_norm: 5.0\n", "AHSD108")
    assert (finding.severity, finding.key) == ("warning", "priority_net.loss_scale_factor")
    assert finding.message == ("priority_net.loss_scale_factor = 0.002 with gradient_clip_norm = 5.0 clips the "
                               "unit-scale gradient at 2500 (5.0 / 0.002), above 50.0: the clip never engages")
    assert finding.hint == ("set priority_net.loss_scale_factor: 1.0 (the clip then means 5.0), or "
                            "gradient_clip_norm: 0.01 to clip at 5.0 at this scale")


def test_loss_scale_above_one_that_makes_the_clip_bite_every_step_warns_too():
    [finding] = found("priority_net:\n  loss_scale_factor: 10.0\n  gradient_clip_norm: 5.0\n", "AHSD108")
    assert "clips the unit-scale gradient at 0.5 (5.0 / 10.0), below 4.0 (0.5 x 8 active loss components)" in finding.message


@pytest.mark.parametrize("scale, clip", [(1.0, 5.0), (0.5, 5.0), (0.002, 0.01), (0.002, 80.0)])
def test_loss_scale_quiet_when_the_unit_scale_clip_is_in_range_or_the_clip_is_ahsd102s(scale, clip):
    assert found(f"priority_net:\n  loss_scale_factor: {scale}\n  gradient_clip_norm: {clip}\n", "AHSD108") == []


def test_primary_sum_warning_states_the_sum():
    [finding] = found("priority_net:\n  uncertainty_weight: 0.35\n", "AHSD103")
    assert finding.severity == "warning"
    assert "= 0.8 + 0.05 + 0.35 = 1.20, outside 1.0 +/- 0.05" in finding.message


def test_all_zero_primary_is_an_error():
    [finding] = found("priority_net:\n  ranking_weight: 0\n  mse_weight: 0\n  uncertainty_weight: 0\n", "AHSD103")
    assert finding.severity == "error" and "all 0" in finding.message


def test_penalty_dominance_warning_then_error():
    [warn] = found("priority_net:\n  min_variance_penalty_weight: 2.0\n", "AHSD104")
    assert warn.severity == "warning"
    assert warn.message.startswith("penalty weights sum to 2.55 (")
    assert "2.5x the primary loss weights' 1.00" in warn.message
    [err] = found(SEED, "AHSD104")
    assert err.severity == "error"
    assert "14.85" in err.message and "11.9x" in err.message and "1.25" in err.message
    assert err.key == "priority_net.min_variance_penalty_weight"


def test_penalty_dominance_names_a_defaulted_largest_term():
    [warn] = found("priority_net:\n  min_variance_penalty_weight: <delete>\n", "AHSD104")
    assert "(its default; the key is not written in the file)" in warn.message


# --- schedule, architecture, data -------------------------------------------------------------


def test_scheduler_patience_rule_needs_early_stopping():
    fragment = "priority_net:\n  patience: 10\n  scheduler_patience: 10\n"
    assert [f.code for f in found(fragment, "AHSD107")] == ["AHSD107"]
    assert found(fragment + "monitoring:\n  early_stopping: false\n", "AHSD107") == []


def test_heads_message_lists_divisors():
    [finding] = found("priority_net:\n  attention_num_heads: 6\n", "AHSD204")
    assert "PyTorch would only fail after the GPU was allocated" in finding.message
    assert finding.hint == "use one of 1, 2, 4, 8, 16, 32, 64"


def test_rules_still_run_when_another_section_is_broken():
    report = validate_document(load_text(variant(
        "priority_net:\n  batch_size: 6\nbias_corrector:\n  epochs: \"many\"\n"), "v.yaml"))
    codes = {f.code for f in report.findings}
    assert {"AHSD101", "AHSD902"} <= codes


# --- AHSD003 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rewrite"),
    [("5e-3", "5.0e-3"), ("1e5", "1.0e+5"), ("1.0e5", "1.0e+5"), ("2E-4", "2.0e-4"), ("-3e2", "-3.0e+2")],
)
def test_float_rewrites(text, rewrite):
    assert yaml11_float_rewrite(text) == rewrite


@pytest.mark.parametrize(
    ("text", "tag", "rewrite"),
    [
        ("5e-3", "float", "5.0e-3"),
        ("yes", "str", "true` (or quote it: `'yes'"),
        ("Off", "str", "false` (or quote it: `'Off'"),
        ("n", "str", "false` (or quote it: `'n'"),
        ("010", "int", "10"),
        ("0o10", "int", "8"),
        ("1:30", "str", "'1:30'"),
    ],
)
def test_yaml11_differences(text, tag, rewrite):
    assert yaml11_difference(text, f"tag:yaml.org,2002:{tag}")[1] == rewrite


@pytest.mark.parametrize(("text", "tag"), [("5.0e-3", "float"), ("0.005", "float"), ("true", "bool"),
                                            ("10", "int"), (".inf", "float"), ("AdamW", "str"), ("0", "int")])
def test_yaml11_agreement_is_quiet(text, tag):
    assert yaml11_difference(text, f"tag:yaml.org,2002:{tag}") is None


def test_quoted_values_are_not_ambiguous():
    doc = variant("experiment_name: \"yes\"\n")
    report = validate_document(load_text(doc, "v.yaml"))
    assert [f for f in report.findings if f.code == "AHSD003"] == []


def test_ambiguity_finding_has_exact_rewrite():
    [finding] = found("priority_net:\n  scheduler_threshold: 5e-3\n", "AHSD003")
    assert finding.message == ("priority_net.scheduler_threshold = 5e-3: `5e-3` is a float to YAML 1.2 "
                               "but the string '5e-3' to PyYAML (YAML 1.1)")
    assert finding.hint == "write `5.0e-3`"


def test_fragment_delete_removes_a_whole_block():
    text = apply_fragment(BASE, "output: <delete>\n")
    doc = load_text(text, "v.yaml")
    assert "output" not in doc.plain() and "save_best_only" not in text
    assert doc.plain()["monitoring"] == load_text(BASE).plain()["monitoring"]
