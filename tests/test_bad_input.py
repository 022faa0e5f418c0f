"""Bad input never gives a traceback: file:line:col and exit 2 (or 1 when only findings result).

Also property tests: arbitrary YAML, mutated configs and valid-by-construction configs.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.errors import AhsdConfigError
from ahsd_config.input.loader import load_text
from ahsd_config.rules._examples import apply_fragment
from ahsd_config.api.validate import validate_document, validate_path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
PROJECT = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
BASE = apply_fragment(PROJECT, (FIXTURES / "base_adjustments.yaml").read_text(encoding="utf-8"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def alias_bomb() -> str:
    text, prev = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n', "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


# (file name, bytes, expected exit, the `line:col` the message must name)
CASES = [
    ("empty.yaml", b"", 2, "1:1", "empty file"),
    ("blank.yaml", b"\n  \n# only a comment\n", 2, "1:1", "holds no data"),
    ("list.yaml", b"- a\n- b\n", 2, "1:1", "must be a mapping"),
    ("scalar.yaml", b"just words\n", 2, "1:1", "must be a mapping"),
    ("latin1.yaml", b"priority_net:\n  name: caf\xe9\n", 2, "2:12", "not UTF-8"),
    ("tabs.yaml", b"priority_net:\n\tbatch_size: 3\n", 2, "2:1", "tabs"),
    ("malformed.yaml", b"priority_net: [1, 2\nbatch_size: 3\n", 2, "2:11", "malformed YAML"),
    ("bomb.yaml", alias_bomb().encode(), 2, "", "alias bomb"),
    ("deep.yaml", b"a: " + b"[" * 200 + b"]" * 200 + b"\n", 2, "1:", "deeper than 64"),
    ("huge.yaml", b"priority_net:\n  batch_size: " + b"9" * 5000 + b"\n", 2, "2:15", "5000 digits"),
]


@pytest.mark.parametrize(("name", "content", "code", "position", "words"), CASES, ids=[c[0] for c in CASES])
def test_unreadable_input(tmp_path, name, content, code, position, words):
    path = tmp_path / name
    path.write_bytes(content)
    result = run("validate", str(path))
    assert result.exit_code == code
    assert result.stderr.startswith(f"{path}:{position}"), result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_path(tmp_path):
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope.yaml'}:1:1: error: no such file: {tmp_path / 'nope.yaml'}"


def test_directory(tmp_path):
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path}:1:1: error: {tmp_path} is a directory, not a YAML file"


def test_unsafe_tag_is_never_constructed(tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "unsafe.yaml"
    path.write_text(f'priority_net: !!python/object/apply:os.system ["touch {marker}"]\n')
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:1:15: error: tag 'tag:yaml.org,2002:python/object/apply:os.system'")
    assert not marker.exists()


def test_python_name_tag_is_refused(tmp_path):
    path = tmp_path / "unsafe.yaml"
    path.write_text("a: !!python/name:os.system\n")
    assert run("validate", str(path)).exit_code == 2


def findings_for(tmp_path, fragment: str):
    path = tmp_path / "c.yaml"
    path.write_text(apply_fragment(BASE, fragment))
    result = run("validate", str(path), "--format", "text")
    return path, result


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_duplicate_key_is_a_finding_at_the_duplicate(tmp_path):
    path, result = findings_for(tmp_path, "priority_net:\n  batch_size: 24\n  batch_size: 6\n")
    assert result.exit_code == 1
    first, second = line_of(path, "batch_size: 24"), line_of(path, "batch_size: 6")
    assert (f"{path}:{second}:3 AHSD002 error priority_net.batch_size is given twice (first on line {first}); "
            "ahsd-config keeps the first value, PyYAML the last") in result.stdout.splitlines()


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_non_finite_numbers_are_findings(tmp_path, value):
    path, result = findings_for(tmp_path, f"priority_net:\n  gradient_clip_norm: {value}\n")
    assert result.exit_code == 1
    line = line_of(path, f"gradient_clip_norm: {value}")
    assert f"{path}:{line}:3 AHSD903 error priority_net.gradient_clip_norm = " in result.stdout
    assert "is not a finite number" in result.stdout


def test_huge_float_is_a_finding(tmp_path):
    _, result = findings_for(tmp_path, "priority_net:\n  learning_rate: 1.0e+400\n")
    assert result.exit_code == 1 and "AHSD903" in result.stdout


def test_string_where_a_number_belongs(tmp_path):
    path, result = findings_for(tmp_path, "priority_net:\n  learning_rate: fast\n")
    assert result.exit_code == 1
    line = line_of(path, "learning_rate: fast")
    assert f"{path}:{line}:3 AHSD902 error priority_net.learning_rate = 'fast' is a string; expected float" in result.stdout


# --- property tests ----------------------------------------------------------------------------

# Modest by default (CI has two cores); AHSD_HYPOTHESIS_EXAMPLES=2000 for a deeper local fuzz.
SETTINGS = settings(max_examples=int(os.environ.get("AHSD_HYPOTHESIS_EXAMPLES", "40")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20,
)


def dump(data) -> str:
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, stream)
    return stream.getvalue()


def check_never_crashes(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_bytes(content)
        try:
            validate_path(path)
        except AhsdConfigError:
            pass


@SETTINGS
@given(trees, st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=3)), max_size=4))
def test_arbitrary_yaml_never_crashes(tree, mutations):
    content = bytearray(dump(tree).encode("utf-8"))
    for position, replacement in mutations:
        at = position % (len(content) + 1)
        content[at:at + len(replacement)] = replacement
    check_never_crashes(bytes(content))


def leaf_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaf_paths(value, prefix + (key,))
    if prefix:
        yield prefix


BASE_DATA = load_text(BASE).plain()
PATHS = sorted(set(leaf_paths(BASE_DATA)), key=str)


def mutate(data, path, action, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    if action == "delete":
        del node[path[-1]]
    elif action == "unknown" and isinstance(node, dict):
        node[f"{path[-1]}_x"] = value
    else:
        node[path[-1]] = value


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["retype", "delete", "unknown"]), trees),
                min_size=1, max_size=3))
def test_mutated_configs_never_crash(edits):
    import copy

    data = copy.deepcopy(BASE_DATA)
    for path, action, value in edits:
        try:
            mutate(data, path, action, value)
        except (KeyError, TypeError):
            continue  # an earlier edit removed or retyped the parent
    try:
        validate_document(load_text(dump(data), "m.yaml"))
    except AhsdConfigError:
        pass


@SETTINGS
@given(
    batch=st.integers(16, 512),
    lr_exp=st.floats(-6, -2),
    min_lr_ratio=st.floats(0.001, 0.5),
    primary=st.tuples(st.floats(0.05, 1), st.floats(0.05, 1), st.floats(0.05, 1)),
    penalty_share=st.floats(0.0, 1.0),
    clip=st.floats(4.0, 50.0),
    heads=st.sampled_from([1, 2, 4, 8, 16, 32, 64]),
    epochs=st.integers(20, 400),
    splits=st.tuples(st.floats(0.0, 0.4), st.floats(0.0, 0.4)),
)
def test_valid_by_construction_configs_have_no_errors(batch, lr_exp, min_lr_ratio, primary, penalty_share,
                                                       clip, heads, epochs, splits):
    total = sum(primary)
    ranking, mse, unc = (p / total for p in primary)
    penalty = penalty_share / 5  # five penalty terms, summing to at most the primary sum of 1
    lr = 10 ** lr_exp
    import copy

    data = copy.deepcopy(BASE_DATA)
    data["priority_net"].update(
        batch_size=batch, learning_rate=lr, min_lr=lr * min_lr_ratio, ranking_weight=ranking,
        mse_weight=mse, uncertainty_weight=unc, calib_mean_weight=penalty, calib_max_weight=penalty,
        calib_range_weight=penalty, min_variance_penalty_weight=penalty, uncertainty_bounds_weight=penalty,
        gradient_clip_norm=clip, attention_num_heads=heads, epochs=epochs, warmup_epochs=epochs // 10,
    )
    data["data"].update(validation_split=splits[0], test_split=splits[1])
    report = validate_document(load_text(dump(data), "v.yaml"))
    assert [f for f in report.findings if f.severity == "error"] == []
    assert math.isclose(ranking + mse + unc, 1.0)
