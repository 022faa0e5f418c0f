"""The validation pipeline: schema errors as AHSD9xx findings at the key, suppression, order, API."""

from __future__ import annotations

from pathlib import Path

import pytest

from ahsd_config.api import apply_overrides, load_config
from ahsd_config.errors import ConfigInvalid, UsageError
from ahsd_config.input.loader import load_text
from ahsd_config.rules._examples import apply_fragment
from ahsd_config.input.suppression import parse_suppression
from ahsd_config.api.validate import validate_document

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
PROJECT = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
BASE = apply_fragment(PROJECT, (FIXTURES / "base_adjustments.yaml").read_text(encoding="utf-8"))


def report_of(fragment: str):
    return validate_document(load_text(apply_fragment(BASE, fragment), "v.yaml"))


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def only(report, code):
    return [f for f in report.findings if f.code == code]


def test_unknown_key_did_you_mean_at_its_line():
    text = apply_fragment(BASE, "priority_net:\n  batch_sise: 24\n")
    [finding] = only(validate_document(load_text(text, "v.yaml")), "AHSD901")
    assert finding.key == "priority_net.batch_sise"
    assert finding.message == "priority_net.batch_sise is not a known key of `priority_net`; did you mean `batch_size`?"
    assert (finding.line, finding.column) == (line_of(text, "batch_sise"), 3)
    assert finding.hint == "rename it to `batch_size`"


def test_unknown_key_that_belongs_to_another_section():
    [finding] = only(report_of("data:\n  gradient_clip_norm: 5.0\n"), "AHSD901")
    assert finding.message == "data.gradient_clip_norm is not a known key of `data`; it belongs under `priority_net`"


def test_unknown_top_level_key():
    [finding] = only(report_of("priorty_net:\n  batch_size: 3\n"), "AHSD901")
    assert finding.message == "priorty_net is not a known key of the top level; did you mean `priority_net`?"
    assert finding.column == 1


def test_wrong_type_quoted_number():
    [finding] = only(report_of("priority_net:\n  batch_size: \"24\"\n"), "AHSD902")
    assert finding.message == "priority_net.batch_size = '24' is a string; expected int"
    assert finding.hint == "remove the quotes: 24"


def test_wrong_type_yes_for_a_boolean():
    [finding] = only(report_of("priority_net:\n  use_strain: yes\n"), "AHSD902")
    assert finding.message == "priority_net.use_strain = 'yes' is a string; expected bool"
    assert finding.hint == "write true or false, unquoted"


def test_out_of_range_with_bounds_hint():
    [finding] = only(report_of("priority_net:\n  dropout: 1.5\n"), "AHSD903")
    assert finding.message.startswith("priority_net.dropout = 1.5: input should be less than 1")
    assert finding.hint == "allowed: >= 0, < 1"


def test_nan_is_not_finite():
    [finding] = only(report_of("priority_net:\n  learning_rate: .nan\n"), "AHSD903")
    assert finding.message == "priority_net.learning_rate = .nan is not a finite number"


def test_missing_required_key_at_its_section():
    text = apply_fragment(BASE, "priority_net:\n  batch_size: <delete>\n")
    [finding] = only(validate_document(load_text(text, "v.yaml")), "AHSD904")
    assert finding.key == "priority_net.batch_size"
    assert finding.line == line_of(text, "priority_net:")
    assert finding.message == "priority_net.batch_size is missing from priority_net and has no default"


def test_findings_are_sorted_by_position():
    report = report_of("priority_net:\n  batch_size: 6\n  gradient_clip_norm: 2.0\n")
    positions = [(f.line, f.column) for f in report.findings]
    assert positions == sorted(positions)


# --- suppression -------------------------------------------------------------------------------


def test_parse_suppression():
    assert parse_suppression("  batch_size: 6  # ahsd: ignore[AHSD101] tiny smoke run") == {"AHSD101": "tiny smoke run"}
    assert parse_suppression("x: 1 # ahsd: ignore[AHSD101, ahsd102]") == {"AHSD101": "", "AHSD102": ""}
    assert parse_suppression("x: 'a#ahsd: ignore[AHSD101]'") == {}
    assert parse_suppression("x: 1  # a comment") == {}


def test_suppressed_finding_is_listed_with_reason():
    report = report_of("priority_net:\n  batch_size: 12  # ahsd: ignore[AHSD101] CPU smoke test only\n")
    assert only(report, "AHSD101") == []
    [entry] = report.suppressed
    assert entry.finding.code == "AHSD101" and entry.reason == "CPU smoke test only"
    assert report.to_json()["suppressed"][0]["reason"] == "CPU smoke test only"


def test_suppression_of_another_code_keeps_the_finding():
    report = report_of("priority_net:\n  batch_size: 12  # ahsd: ignore[AHSD102]\n")
    assert len(only(report, "AHSD101")) == 1 and report.suppressed == ()


# --- API ---------------------------------------------------------------------------------------


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_returns_frozen_config(tmp_path):
    loaded = load_config(write(tmp_path, BASE))
    # the file's value, whatever the project config holds today (v261129b moved it 64 -> 128)
    assert loaded.config.priority_net.batch_size == load_text(BASE).plain()["priority_net"]["batch_size"]
    assert loaded.revision == "v15"
    assert len(loaded.sha256) == 64
    with pytest.raises(Exception):
        loaded.config.priority_net.batch_size = 3  # frozen


def test_overrides_apply_before_validation(tmp_path):
    loaded = load_config(write(tmp_path, BASE), ["priority_net.batch_size=32", "data.synthetic.n_scenarios=512"])
    assert loaded.config.priority_net.batch_size == 32
    assert loaded.config.data.synthetic.n_scenarios == 512


def test_override_to_an_error_raises_config_invalid(tmp_path):
    with pytest.raises(ConfigInvalid) as caught:
        load_config(write(tmp_path, BASE), ["priority_net.batch_size=6"])
    assert caught.value.exit_code == 2
    assert "AHSD101" in caught.value.message
    assert caught.value.reports[0].has_errors


def test_unknown_override_key_names_the_closest():
    with pytest.raises(UsageError, match="did you mean `priority_net.batch_size`"):
        apply_overrides({}, ["priority_net.batch_sise=3"])


def test_override_without_equals_is_a_usage_error():
    with pytest.raises(UsageError, match="not KEY=VALUE"):
        apply_overrides({}, ["priority_net.batch_size"])


def test_override_values_are_yaml():
    data: dict = {"priority_net": {}}
    apply_overrides(data, ["priority_net.hidden_dims=[64, 32]", "priority_net.use_strain=false",
                           "priority_net.learning_rate=3.0e-5"])
    assert data["priority_net"] == {"hidden_dims": [64, 32], "use_strain": False, "learning_rate": 3.0e-5}


def test_a_scalar_where_a_section_belongs():
    text = apply_fragment(BASE, "output: <delete>\n") + "output: 5\n"
    [finding] = only(validate_document(load_text(text, "v.yaml")), "AHSD902")
    assert finding.message == "output = 5 is an integer; expected a mapping of keys (a section)"
    assert (finding.line, finding.column) == (len(text.splitlines()), 1)


def test_a_finding_about_an_overridden_key_says_the_value_came_from_the_command_line():
    from ahsd_config.api import load_config
    from ahsd_config.errors import ConfigInvalid

    config = Path(__file__).resolve().parents[1] / "configs" / "enhanced_training.yaml"
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config, ["priority_net.batch_size=6"])
    [finding] = [f for f in caught.value.reports[0].findings if f.code == "AHSD101"]
    assert finding.message.endswith("[value from --set priority_net.batch_size=6]")
    loaded = load_config(config, ["priority_net.batch_size=6"], refuse_errors=False)
    assert loaded.config.priority_net.batch_size == 6  # --force runs it, and the report still says why not
