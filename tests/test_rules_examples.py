"""Every rule's `bad` and `good` examples are tests: bad triggers exactly that code, good nothing.

Each fragment is merged as text onto a clean base (the project config plus
`fixtures/rules/base_adjustments.yaml`). "Relevant" findings are those the base does not have,
plus any at a key the fragment writes (so an info about a key the base already has still counts).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ahsd_config.input.loader import format_key, load_text
from ahsd_config.rules import all_rules
from ahsd_config.rules._examples import apply_fragment, parse_fragment
from ahsd_config.api.validate import validate_document

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "rules"


def base_text() -> str:
    project = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
    return apply_fragment(project, (FIXTURES / "base_adjustments.yaml").read_text(encoding="utf-8"))


BASE = base_text()


def findings(text: str):
    return validate_document(load_text(text, "example.yaml")).findings


BASE_FINDINGS = {(f.code, f.key, f.message) for f in findings(BASE)}


def relevant(fragment: str):
    keys = {format_key(path) for path, _ in parse_fragment(fragment)}
    return [f for f in findings(apply_fragment(BASE, fragment))
            if (f.code, f.key, f.message) not in BASE_FINDINGS or f.key in keys]


def test_base_has_no_errors_or_warnings():
    assert [f for f in findings(BASE) if f.severity != "info"] == []


# Rules whose bad example needs more than a config fragment; each has its own test file.
NEEDS_MORE_THAN_A_FRAGMENT = {"AHSD402": "tests/test_rules_migrations.py drafts a revision"}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_bad_example_triggers_exactly_its_code(rule):
    if rule.code in NEEDS_MORE_THAN_A_FRAGMENT:
        pytest.skip(NEEDS_MORE_THAN_A_FRAGMENT[rule.code])
    found = relevant(rule.bad)
    assert {f.code for f in found} == {rule.code}, [(f.code, f.message) for f in found]


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_good_example_triggers_nothing(rule):
    found = relevant(rule.good)
    assert found == [], [(f.code, f.message) for f in found]


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_is_documented(rule):
    assert rule.title and rule.why and rule.fix
    assert rule.severity in ("error", "warning", "info")
    assert rule.bad.strip() != rule.good.strip()


def test_codes_are_unique_and_grouped_by_range():
    ranges = {"hygiene": "AHSD0", "optimisation": "AHSD1", "architecture": "AHSD2", "data": "AHSD3",
              "migrations": "AHSD4", "usage": "AHSD5", "validity": "AHSD9"}
    codes = [r.code for r in all_rules()]
    assert len(codes) == len(set(codes))
    for r in all_rules():
        if r.group in ranges:
            assert r.code.startswith(ranges[r.group]), (r.code, r.group)


def test_a_taken_code_cannot_be_registered_again():
    from ahsd_config.rules import Rule, register

    taken = all_rules()[0]
    with pytest.raises(ValueError, match="already taken"):
        register(Rule(taken.code, "info", "x", "y", "z", "a: 1", "a: 2"))
