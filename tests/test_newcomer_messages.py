"""Issue 13 item 5: messages that say what is true — endpoints that are neither file nor revision,
a config revision before `:`, reversed ranges, did-you-mean for keys, YAML values (not Python
reprs) in history, and the diff JSON carrying the rule crossings text and markdown show."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.api.migrations import load_chain
from ahsd_config.values import show as show_value

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def fails(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    return res.stderr


def test_endpoint_that_is_neither_file_nor_revision():
    last = ", ".join(load_chain().order[-4:])
    assert fails(["diff", "head", "nonexist.yaml"]) == (
        f"'nonexist.yaml' is neither a file nor a revision (revisions end with {last}, head; "
        "`ahsd-config history --brief` lists them; GITREV:path reads a file at a git commit)\n")


def test_config_revision_before_colon_is_refused_clearly():
    assert fails(["diff", "v13:configs/enhanced_training.yaml", "head"]) == (
        "v13:configs/enhanced_training.yaml: 'v13' is a config revision, not a git commit; GITREV:path "
        "reads a file at a git commit (e.g. HEAD~1:configs/enhanced_training.yaml); to compare with "
        "revision v13, name it alone: `ahsd-config diff v13 ...`\n")


def test_reversed_and_empty_ranges_say_so():
    assert fails(["history", "-r", "v15:v13"]) == (
        "-r v15:v13: v15 comes after v13, so the range is empty; ranges go oldest first: -r v13:v15\n")
    assert fails(["history", "-r", "v13:v13"]) == "-r v13:v13: the range holds no revisions\n"


def test_log_unknown_key_suggests_the_close_one():
    assert fails(["log", "priority_net.batchsize"]) == (
        "no revision touches priority_net.batchsize; did you mean priority_net.batch_size?\n")
    assert fails(["log", "zzz.nothing"]) == (
        "no revision touches zzz.nothing (`ahsd-config show head` prints every key)\n")


def test_history_prints_yaml_values():
    out = runner.invoke(app, ["history"]).stdout
    assert "add output = {save_best_only: true, save_intermediate: true, generate_plots: true}" in out
    assert not re.search(r"\{'|\bTrue\b|\bFalse\b|\bNone\b", out)


scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
           | st.floats(allow_nan=False, allow_infinity=False, width=64)
           | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12))
keys = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(values)
def test_show_value_is_yaml_that_reads_back(value):
    """The class: any value history/diff/log print is YAML flow that parses to the same value."""
    assert YAML(typ="safe", pure=True).load(show_value(value)) == value


def test_diff_json_carries_the_rule_crossings_text_shows():
    text = runner.invoke(app, ["diff", "v13", "v15"]).stdout
    doc = json.loads(runner.invoke(app, ["diff", "v13", "v15", "--format", "json"]).stdout)
    clip = next(c for c in doc["changes"] if c["key"] == "priority_net.gradient_clip_norm")
    assert clip["rules"] == [{"code": "AHSD102", "old": "warning", "new": "clean"}]
    assert set(clip) == {"key", "kind", "old", "new", "steps", "rules"}  # PRODUCT.md's fields + rules
    shown = re.findall(r"^    rule: (\S+) (\S+) -> (\S+)$", text, re.M)
    in_json = [(r["code"], r["old"], r["new"]) for c in doc["changes"] for r in c["rules"]]
    assert shown == in_json and len(shown) == 2  # AHSD502 on stage, AHSD102 on the clip
