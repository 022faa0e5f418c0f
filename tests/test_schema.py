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
from ahsd_config.schemagen import generate_json_schema, render_json_schema

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
    assert config.priority_net.batch_size == 64
    assert config.priority_net.min_variance_penalty_weight == 2.0
    assert config.priority_net.pair_importance_width == 32
    assert config.neural_posterior.flow_config.per_param_tail_bounds[10] == 3.0


def test_project_config_starts_with_the_schema_modeline() -> None:
    first = CONFIG.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/enhanced_training.schema.json"


@pytest.mark.corpus
@needs_corpus
def test_project_config_has_the_newest_user_values_in_the_same_order() -> None:
    ours = project_config()
    assert ours["priority_net"].pop("min_variance_penalty_weight") == 2.0
    theirs = load(CORPUS / NEWEST)
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
