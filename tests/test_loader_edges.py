"""Loader edge cases: every failure names file:line:col; positions survive BOMs and CRLF."""

from __future__ import annotations

import pytest

from ahsd_config.errors import InputError
from ahsd_config.input.loader import format_key, load_text, parse_key


def fails_at(text: str) -> tuple[int, int, str]:
    with pytest.raises(InputError) as caught:
        load_text(text, "c.yaml")
    pos = caught.value.position
    return pos.line, pos.column, caught.value.message


def test_invalid_timestamp_is_located_at_its_value():
    line, column, message = fails_at("a: 2025-01-01\nb: 2025-13-45\n")
    assert (line, column) == (2, 4)
    assert message == "cannot build the document: month must be in 1..12"


def test_second_document_is_refused():
    line, column, message = fails_at("a: 1\n---\nb: 2\n")
    assert (line, column) == (2, 1) and message.startswith("malformed YAML")


@pytest.mark.parametrize("tag", ["!!binary aGVsbG8=", "!!python/name:os.system", "!custom 3"])
def test_non_standard_tags_are_refused(tag):
    line, column, message = fails_at(f"a: {tag}\n")
    assert (line, column) == (1, 4) and "is not allowed in a config" in message


def test_bom_and_crlf_keep_positions():
    doc = load_text("\ufeffpriority_net:\r\n  batch_size: 6\r\n", "c.yaml")
    assert doc.position(("priority_net", "batch_size")) == (2, 3)
    assert doc.plain() == {"priority_net": {"batch_size": 6}}


def test_duplicates_in_flow_mappings_are_recorded():
    doc = load_text("priority_net: {batch_size: 6, batch_size: 7}\n", "c.yaml")
    [dup] = doc.duplicates
    assert (dup.path, dup.line, dup.column, dup.first_line) == (("priority_net", "batch_size"), 1, 31, 1)
    assert doc.plain()["priority_net"]["batch_size"] == 6  # the first value is kept


@pytest.mark.parametrize("dotted", ["priority_net.batch_size", "priority_net.hidden_dims[0]", "a.b[1][2].c"])
def test_key_format_round_trips(dotted):
    assert format_key(parse_key(dotted)) == dotted
