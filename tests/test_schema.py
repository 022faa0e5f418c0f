"""The pydantic schema: corpus coverage, strictness, bounds, defaults, field docs, JSON Schema."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from ahsd_config.schema import (
    REQUIRED,
    PriorityNetConfig,
    SyntheticDataConfig,
    TrainingConfig,
    all_dotted_keys,
    field_info,
    unused_by_trainer,
)
from ahsd_config.schema.schemagen import generate_json_schema, render_json_schema

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "enhanced_training.yaml"
SCHEMA_FILE = REPO / "schemas" / "enhanced_training.schema.json"
CORPUS = REPO.parent / "shared" / "corpus" / "posteriflow" / "enhanced_training"
NEWEST = "2026-07-07T1404_380b413.yaml"
FIRST_SHARED_LAYOUT = "2025-11-11"

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"user corpus not present at {CORPUS} (../shared/corpus)"
)


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.glob("*.yaml") if p.name >= FIRST_SHARED_LAYOUT)


def project_config() -> dict[str, Any]:
    return load(CONFIG)


def errors_of(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        TrainingConfig.model_validate(data)
    return [(e["loc"], e["type"]) for e in caught.value.errors()]


def with_priority(**changes: Any) -> dict[str, Any]:
    data = project_config()
    data["priority_net"].update(changes)
    return data


# --- corpus and the project's own config -------------------------------------------------------


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_corpus_file_from_nov_11_validates(path: Path) -> None:
    config = TrainingConfig.model_validate(load(path))
    assert config.revision is None  # unstamped files are valid; the stamp rule warns


@pytest.mark.corpus
@needs_corpus
def test_corpus_has_the_expected_twenty_two_files_from_nov_11() -> None:
    assert len(corpus_files()) == 22


def test_project_config_validates() -> None:
    config = TrainingConfig.model_validate(project_config())
    assert config.priority_net.batch_size == 128  # v261129b
    assert config.priority_net.min_variance_penalty_weight == 0.0  # v261129b
    assert config.priority_net.pair_importance_width == 32
    assert config.priority_net.snr_skip_input == "effective_snr"  # v261130
    assert config.neural_posterior.flow_config.per_param_tail_bounds[10] == 3.0


def test_project_config_starts_with_the_schema_modeline() -> None:
    first = CONFIG.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/enhanced_training.schema.json"


@pytest.mark.corpus
@needs_corpus
def test_project_config_has_the_newest_user_values_in_the_same_order() -> None:
    """... plus exactly the `set` and `add` changes of our own revisions after theirs (v260707)."""
    from ahsd_config.migrate.state import apply_revision_plain
    from ahsd_config.migrate.store import load_map

    rmap = load_map(CONFIG.parent.parent / "migrations")
    ours = project_config()
    assert ours.pop("revision") == rmap.head  # the migration stamp: the newest file is the chain's head
    theirs = load(CORPUS / NEWEST)
    theirs["priority_net"]["min_variance_penalty_weight"] = 2.0  # implicit in their file (the model's constant)
    for step in rmap.path("v260707", "head"):  # v261129 (loss scale), v261129b (schedule), v261130 (skip input)
        assert not step.down and {c.op for c in step.revision.changes} <= {"set", "add"}
        theirs = apply_revision_plain(theirs, step.revision, False, frozenset())
    assert ours["priority_net"].pop("min_variance_penalty_weight") == theirs["priority_net"].pop("min_variance_penalty_weight")
    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)  # same key order, section by section


def test_every_project_config_key_has_a_comment() -> None:
    for number, line in enumerate(CONFIG.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assert "#" in line, f"line {number} has no comment: {line!r}"


def test_project_config_has_no_emoji_or_check_marks() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    assert all(ord(ch) < 128 for ch in text)


# --- unknown keys, strictness, bounds ------------------------------------------------------------


def test_unknown_key_is_extra_forbidden_at_its_location() -> None:
    data = with_priority(batch_sise=24)
    assert errors_of(data) == [(("priority_net", "batch_sise"), "extra_forbidden")]


def test_unknown_top_level_and_nested_keys_are_reported_where_they_are() -> None:
    data = project_config()
    data["gradient_clip_norm"] = 5.0
    data["neural_posterior"]["flow_config"]["num_binz"] = 8
    assert errors_of(data) == [
        (("neural_posterior", "flow_config", "num_binz"), "extra_forbidden"),
        (("gradient_clip_norm",), "extra_forbidden"),
    ]


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("batch_size", "24", "int_type"),
        ("batch_size", 24.0, "int_type"),
        ("batch_size", True, "int_type"),
        ("use_strain", "true", "bool_type"),
        ("use_strain", 1, "bool_type"),
        ("learning_rate", "3.0e-5", "float_type"),
        ("scheduler_threshold", "5e-3", "float_type"),
        ("optimizer", "SGD", "literal_error"),
        ("scheduler", "CosineAnnealingLR", "literal_error"),
    ],
)
def test_types_are_strict(key: str, value: Any, error: str) -> None:
    assert errors_of(with_priority(**{key: value})) == [(("priority_net", key), error)]


def test_an_int_is_accepted_where_a_float_belongs() -> None:
    config = TrainingConfig.model_validate(with_priority(gradient_clip_norm=5))
    assert config.priority_net.gradient_clip_norm == 5.0
    assert isinstance(config.priority_net.gradient_clip_norm, float)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("key", ["gradient_clip_norm", "ranking_weight", "affine_bias_min"])
def test_nan_and_inf_are_rejected(key: str, bad: float) -> None:
    assert errors_of(with_priority(**{key: bad})) == [(("priority_net", key), "finite_number")]


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("batch_size", 0, "greater_than"),
        ("learning_rate", 0.0, "greater_than"),
        ("gradient_clip_norm", -1.0, "greater_than"),
        ("dropout", 1.0, "less_than"),
        ("dropout", -0.1, "greater_than_equal"),
        ("attention_dropout", 1.5, "less_than"),
        ("calib_max_weight", -0.5, "greater_than_equal"),
        ("min_variance_penalty_weight", -2.0, "greater_than_equal"),
        ("warmup_start_factor", 0.0, "greater_than"),
        ("warmup_start_factor", 1.5, "less_than_equal"),
        ("scheduler_factor", 1.0, "less_than"),
        ("world_size", 0, "greater_than"),
    ],
)
def test_impossible_values_are_rejected(key: str, value: Any, error: str) -> None:
    assert errors_of(with_priority(**{key: value})) == [(("priority_net", key), error)]


@pytest.mark.parametrize(
    "changes",
    [
        {"batch_size": 6},  # BatchNorm-starved, but legal: the BatchNorm rule reports it
        {"gradient_clip_norm": 2.0},  # too tight for six terms: a rule warns
        {"uncertainty_weight": 0.35, "calib_max_weight": 2.5, "calib_range_weight": 2.0},
        {"min_variance_penalty_weight": 10.0},
        {"uncertainty_lower_bound": 0.6, "uncertainty_upper_bound": 0.5},  # ordered bounds: rules
        {"affine_gain_min": 3.0, "min_lr": 1.0},  # ordered bounds and min_lr > lr: rules
        {"attention_num_heads": 7},  # divisibility of the fusion width: a rule
    ],
)
def test_advice_is_not_a_schema_error(changes: dict[str, Any]) -> None:
    TrainingConfig.model_validate(with_priority(**changes))


def test_seed_pre_fix_values_pass_the_schema() -> None:
    data = with_priority(
        batch_size=6, gradient_clip_norm=2.0, uncertainty_weight=0.35,
        calib_max_weight=2.50, calib_range_weight=2.00, min_variance_penalty_weight=10.0,
    )
    assert TrainingConfig.model_validate(data).priority_net.batch_size == 6


# --- defaults, frozen, project sections ----------------------------------------------------------


def test_project_keys_default_when_absent() -> None:
    data = project_config()
    del data["priority_net"]["min_variance_penalty_weight"]
    del data["revision"]
    config = TrainingConfig.model_validate(data)
    pn = config.priority_net
    assert (pn.min_variance_penalty_weight, pn.normalize_loss_by_components) == (2.0, False)
    assert (pn.world_size, pn.sync_batchnorm) == (1, False)
    assert config.revision is None
    synthetic = config.data.synthetic
    assert synthetic == SyntheticDataConfig()
    assert (synthetic.n_scenarios, synthetic.min_signals, synthetic.max_signals) == (4096, 1, 8)
    assert synthetic.source_mix.model_dump() == {"BBH": 0.7, "BNS": 0.2, "NSBH": 0.1}
    health = config.monitoring.health
    assert (health.nonfinite_policy, health.max_skipped_steps) == ("stop", 10)
    assert (health.loss_spike_factor, health.grad_norm_typical_max) == (3.0, 3.0)


def test_keys_absent_from_older_files_have_their_documented_defaults() -> None:
    data = project_config()
    for key in ("scheduler_threshold", "calib_max_weight", "importance_hidden_dim"):
        del data["priority_net"][key]
    pn = TrainingConfig.model_validate(data).priority_net
    assert (pn.scheduler_threshold, pn.calib_max_weight, pn.importance_hidden_dim) == (
        1.0e-4, 0.0, None,
    )
    assert pn.pair_importance_width == pn.overlap_importance_hidden == 32


def test_model_is_frozen() -> None:
    config = TrainingConfig.model_validate(project_config())
    with pytest.raises(ValidationError) as caught:
        config.priority_net.batch_size = 6  # type: ignore[misc]
    assert caught.value.errors()[0]["type"] == "frozen_instance"
    assert isinstance(config.priority_net.hidden_dims, tuple)


def test_revision_stamp_is_optional_and_kept() -> None:
    data = project_config()
    data["revision"] = "v15"
    assert TrainingConfig.model_validate(data).revision == "v15"


def test_min_signals_above_max_is_rejected_by_name() -> None:
    data = project_config()
    data["data"]["synthetic"] = {"min_signals": 9, "max_signals": 8}
    with pytest.raises(ValidationError) as caught:
        TrainingConfig.model_validate(data)
    (error,) = caught.value.errors()
    assert error["loc"] == ("data", "synthetic")
    assert "min_signals = 9 is above max_signals = 8" in error["msg"]


def test_source_mix_must_sum_to_one() -> None:
    data = project_config()
    data["data"]["synthetic"] = {"source_mix": {"BBH": 0.7, "BNS": 0.2, "NSBH": 0.2}}
    with pytest.raises(ValidationError) as caught:
        TrainingConfig.model_validate(data)
    (error,) = caught.value.errors()
    assert error["loc"] == ("data", "synthetic", "source_mix")
    assert "source fractions sum to 1.1, not 1" in error["msg"]


def test_rl_level_without_effort_settings_is_rejected() -> None:
    data = project_config()
    del data["rl_controller"]["complexity_configs"]["high"]
    with pytest.raises(ValidationError) as caught:
        TrainingConfig.model_validate(data)
    assert caught.value.errors()[0]["loc"] == ("rl_controller",)


def test_tail_bound_keys_are_integer_indices() -> None:
    data = project_config()
    bounds = data["neural_posterior"]["flow_config"]["per_param_tail_bounds"]
    bounds["mass_1"] = bounds.pop(0)
    bounds[3] = 0.0
    assert errors_of(data) == [
        (("neural_posterior", "flow_config", "per_param_tail_bounds", 3), "greater_than"),
        (("neural_posterior", "flow_config", "per_param_tail_bounds", "mass_1", "[key]"), "int_type"),
    ]


# --- field documentation for `explain` and suggestions -------------------------------------------


def test_every_field_has_a_description() -> None:
    missing = [key for key, doc in all_dotted_keys().items() if not doc.description]
    assert missing == []


def test_field_info_gives_type_bounds_default_and_history() -> None:
    doc = field_info("priority_net.batch_size")
    assert (doc.type, doc.bounds, doc.default, doc.required) == ("int", {"gt": 0}, REQUIRED, True)
    assert "6 -> 24" in doc.description and doc.unused is None
    mvp = field_info("priority_net.min_variance_penalty_weight")
    assert (mvp.type, mvp.bounds, mvp.default) == ("float", {"ge": 0}, 2.0)
    assert field_info("priority_net.dropout").bounds == {"ge": 0, "lt": 1}
    assert field_info("priority_net.optimizer").type == "Literal['AdamW', 'Adam']"
    assert field_info("priority_net.importance_hidden_dim").type == "int | None"
    assert field_info("data.synthetic.source_mix").default == {"BBH": 0.7, "BNS": 0.2, "NSBH": 0.1}


def test_field_info_resolves_mapping_keys_and_rejects_unknown() -> None:
    doc = field_info("rl_controller.complexity_configs.low.flow_layers")
    assert doc.key == "rl_controller.complexity_configs.*.flow_layers"
    with pytest.raises(KeyError):
        field_info("priority_net.batch_sise")


def test_all_dotted_keys_cover_every_key_of_the_project_config() -> None:
    known = all_dotted_keys()

    def keys_of(node: Any, prefix: str) -> list[str]:
        if not isinstance(node, dict):
            return []
        out = []
        for name, value in node.items():
            key = f"{prefix}{name}"
            out.append(key)
            if not key.endswith("per_param_tail_bounds"):
                out += keys_of(value, key + ".")
        return out

    for key in keys_of(project_config(), ""):
        assert field_info(key).key in known


def test_unused_by_trainer_lists_the_unread_priority_net_keys_and_sections() -> None:
    unused = unused_by_trainer()
    priority = sorted(k for k in unused if k.startswith("priority_net."))
    assert priority == [
        "priority_net.gradient_log_threshold",
        "priority_net.use_modal_fusion",
    ]
    sections = {"stage", "components", "neural_posterior", "adaptive_subtractor",
                "rl_controller", "bias_corrector"}
    assert sections <= set(unused)
    assert field_info("neural_posterior.flow_config.num_bins").unused == unused["neural_posterior"]
    assert field_info("priority_net.batch_size").unused is None


# --- JSON Schema -----------------------------------------------------------------------------------


def test_committed_json_schema_is_up_to_date() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == render_json_schema(), (
        "schemas/enhanced_training.schema.json is stale; regenerate it with "
        "`ahsd-config schema` (or `python -m ahsd_config.schema.schemagen`) and commit it"
    )


def test_json_schema_header_and_descriptions() -> None:
    schema = generate_json_schema()
    assert list(schema)[:2] == ["$schema", "title"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    batch = schema["$defs"]["PriorityNetConfig"]["properties"]["batch_size"]
    assert batch["exclusiveMinimum"] == 0 and "BatchNorm" in batch["description"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_project_config_validates_against_the_json_schema() -> None:
    as_json = json.loads(json.dumps(project_config()))  # integer keys become strings, as in JSON
    jsonschema.Draft202012Validator(generate_json_schema()).validate(as_json)


def test_json_schema_rejects_what_the_models_reject() -> None:
    validator = jsonschema.Draft202012Validator(generate_json_schema())
    data = json.loads(json.dumps(with_priority(optimizer="SGD", batch_sise=24)))
    messages = sorted(e.message for e in validator.iter_errors(data))
    assert messages == [
        "'SGD' is not one of ['AdamW', 'Adam']",
        "Additional properties are not allowed ('batch_sise' was unexpected)",
    ]


@pytest.mark.corpus
@needs_corpus
def test_every_corpus_file_from_nov_11_validates_against_the_json_schema() -> None:
    validator = jsonschema.Draft202012Validator(generate_json_schema())
    for path in corpus_files():
        errors = [e.message for e in validator.iter_errors(json.loads(json.dumps(load(path))))]
        assert errors == [], path.name


def test_sequence_items_keep_their_strict_types() -> None:
    assert errors_of(with_priority(hidden_dims=[640, "512"])) == [
        (("priority_net", "hidden_dims", 1), "int_type"),
    ]
    assert errors_of(with_priority(hidden_dims="640")) == [
        (("priority_net", "hidden_dims"), "tuple_type"),
    ]


def test_schema_package_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, ahsd_config.schema, ahsd_config.schema.schemagen; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
