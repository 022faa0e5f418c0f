"""Keys that YAML makes a boolean, number or null (`true:`, `1:`, `~:`, `.nan:`) are named and
placed: pydantic spells such a key its own way (`1` for true, 'None', 'nan') and the finding used
to say `[1]` at the file's 1:1 (hostile review after the issue 11 redesign)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ahsd_config.api.validate import validate_document
from ahsd_config.input.loader import load_text

NOT_NAMES = ["true", "False", "1", "-7", "0x1f", "0o17", "~", "null", "Null", ".nan", ".NaN", "-.inf",
             "1.5", "1e3", "+.5"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NOT_NAMES), st.sampled_from(["", "priority_net", "data"]), st.integers(0, 3))
def test_a_key_that_is_not_a_name_is_named_where_it_is_written(key, section, before):
    indent = "  " if section else ""
    lines = [f"{section}:"] if section else []
    lines += [f"{indent}filler_{i}: {i}" for i in range(before)]
    lines.append(f"{indent}{key}: 5")
    line = len(lines)
    doc = load_text("\n".join(lines) + "\n", "k.yaml")
    found = [f for f in validate_document(doc).findings if f.code == "AHSD902" and "not a name" in f.message]
    assert len(found) == 1, [f.message for f in validate_document(doc).findings]
    finding = found[0]
    assert (finding.line, finding.column) == (line, len(indent) + 1)
    assert finding.message.startswith(f"{section + '.' if section else ''}{key}: the key {key} is ")
    assert finding.message.endswith("to YAML, not a name; config keys are names")
