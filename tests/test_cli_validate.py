"""`ahsd-config validate / explain / schema` driven in-process: exit codes and exact output lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.rules._examples import apply_fragment

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
PROJECT = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
BASE = apply_fragment(PROJECT, (FIXTURES / "base_adjustments.yaml").read_text(encoding="utf-8"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def write(tmp_path: Path, name: str, fragment: str = "") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(apply_fragment(BASE, fragment) if fragment else BASE, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_clean_file_exits_0_with_summary(tmp_path):
    path = write(tmp_path, "ok.yaml")
    result = run("validate", str(path))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "1 file checked: 0 errors, 0 warnings, 11 info"


def test_error_finding_exits_1_with_exact_lines(tmp_path):
    path = write(tmp_path, "bad.yaml", "priority_net:\n  batch_size: 6\n")
    result = run("validate", str(path))
    assert result.exit_code == 1
    line = line_of(path, "batch_size: 6")
    lines = result.stdout.splitlines()
    i = lines.index(f"{path}:{line}:3 AHSD101 error priority_net.batch_size = 6 is below 8, the smallest "
                    "batch BatchNorm gets usable statistics from; use >= 16 (24 fixed the Nov 15 run)")
    assert lines[i + 1] == "    hint: raise priority_net.batch_size to 24 (or enable priority_net.sync_batchnorm across replicas)"
    assert result.stderr == ""


def test_fail_on_warning(tmp_path):
    path = write(tmp_path, "warn.yaml", "priority_net:\n  batch_size: 12\n")
    assert run("validate", str(path)).exit_code == 0
    assert run("validate", str(path), "--fail-on", "warning").exit_code == 1
    assert run("validate", str(write(tmp_path, "ok.yaml")), "--fail-on", "info").exit_code == 1


def test_several_paths_and_globs(tmp_path):
    write(tmp_path, "cfg/a.yaml")
    write(tmp_path, "cfg/sub/b.yaml", "priority_net:\n  batch_size: 6\n")
    result = run("validate", str(tmp_path / "cfg" / "**" / "*.yaml"), "--format", "json")
    assert result.exit_code == 1
    paths = [f["path"] for f in json.loads(result.stdout)["files"]]
    assert paths == [str(tmp_path / "cfg" / "a.yaml"), str(tmp_path / "cfg" / "sub" / "b.yaml")]


def test_glob_matching_nothing_is_a_usage_error(tmp_path):
    result = run("validate", str(tmp_path / "*.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"no file matches '{tmp_path / '*.yaml'}'"


def test_unreadable_file_exits_2_and_others_are_still_reported(tmp_path):
    good = write(tmp_path, "ok.yaml")
    result = run("validate", str(tmp_path / "gone.yaml"), str(good), "--format", "json")
    assert result.exit_code == 2
    files = json.loads(result.stdout)["files"]
    assert files[0]["error"]["message"] == f"no such file: {tmp_path / 'gone.yaml'}"
    assert files[1]["path"] == str(good) and "error" not in files[1]
    assert result.stderr.strip() == f"{tmp_path / 'gone.yaml'}:1:1: error: no such file: {tmp_path / 'gone.yaml'}"


def test_output_file(tmp_path):
    path = write(tmp_path, "bad.yaml", "priority_net:\n  batch_size: 6\n")
    out = tmp_path / "reports" / "ahsd.sarif"
    result = run("validate", str(path), "--format", "sarif", "--output", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["runs"][0]["results"][0]["ruleId"] in {"AHSD101", "AHSD501", "AHSD502"}


def test_bad_format_is_a_usage_error(tmp_path):
    result = run("validate", str(write(tmp_path, "ok.yaml")), "--format", "xml")
    assert result.exit_code == 2


def test_github_format(tmp_path):
    path = write(tmp_path, "bad.yaml", "priority_net:\n  attention_num_heads: 6\n")
    result = run("validate", str(path), "--format", "github")
    line = line_of(path, "attention_num_heads: 6")
    assert (f"::error file={path},line={line},col=3,title=AHSD204::priority_net.attention_num_heads = 6 does not "
            "divide the fusion width 64: PyTorch would only fail after the GPU was allocated%0Ause one of "
            "1, 2, 4, 8, 16, 32, 64") in result.stdout.splitlines()


# --- explain -----------------------------------------------------------------------------------


def test_explain_rule():
    result = run("explain", "AHSD101")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "AHSD101 (error): BatchNorm batch too small"
    assert lines[1].startswith("why: With the strain encoder on")
    assert "bad:" in lines and "good:" in lines
    assert "      batch_size: 6" in lines


def test_explain_rule_lowercase():
    assert run("explain", "ahsd104").stdout.startswith("AHSD104 (error): penalty weights dominate the loss")


def test_explain_key():
    result = run("explain", "priority_net.min_variance_penalty_weight")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "priority_net.min_variance_penalty_weight"
    assert "type: float" in lines and "bounds: >= 0" in lines and "default: 2.0" in lines


def test_explain_unused_key_says_so():
    assert "not used by ahsd-train: ahsd-train logs the gradient norm every step" in run(
        "explain", "priority_net.gradient_log_threshold").stdout


def test_explain_unknown_key_suggests_and_exits_2():
    result = run("explain", "priority_net.batch_sise")
    assert result.exit_code == 2
    assert result.stderr.startswith("unknown key `priority_net.batch_sise`; did you mean `priority_net.batch_size`")


def test_explain_unknown_code_exits_2():
    result = run("explain", "AHSD100")
    assert result.exit_code == 2
    assert result.stderr.startswith("no rule AHSD100; did you mean")


# --- schema ------------------------------------------------------------------------------------


def test_schema_writes_and_checks(tmp_path):
    out = tmp_path / "s.json"
    assert run("schema", "--check", "--output", str(out)).exit_code == 1
    result = run("schema", "--output", str(out))
    assert result.exit_code == 0 and result.stdout.strip() == f"wrote {out}"
    assert json.loads(out.read_text())["$schema"].startswith("https://json-schema.org/")
    assert run("schema", "--check", "--output", str(out)).exit_code == 0


def test_committed_schema_is_current():
    result = run("schema", "--check", "--output", str(REPO / "schemas" / "enhanced_training.schema.json"))
    assert result.exit_code == 0, result.stderr


# --- the Typer-free fast path of `main()` --------------------------------------------------------


def run_main(monkeypatch, capsys, *args: str):
    from ahsd_config.cli import app as cli

    monkeypatch.setattr("sys.argv", ["ahsd-config", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_fast_path_matches_the_typer_command(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "bad.yaml", "priority_net:\n  batch_size: 6\n")
    for fmt in ("text", "json", "github"):
        code, out, err = run_main(monkeypatch, capsys, "validate", str(path), f"--format={fmt}")
        typer_result = run("validate", str(path), "--format", fmt)
        assert (code, out) == (typer_result.exit_code, typer_result.stdout)


def test_fast_path_usage_error_and_unreadable(tmp_path, monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys, "validate", str(tmp_path / "*.yml"))
    assert code == 2 and err.strip() == f"no file matches '{tmp_path / '*.yml'}'"
    code, out, err = run_main(monkeypatch, capsys, "validate", str(tmp_path / "gone.yaml"), "--fail-on", "warning")
    assert code == 2 and err.startswith(f"{tmp_path / 'gone.yaml'}:1:1: error: no such file")


@pytest.mark.parametrize("args", [["--help"], ["-f"], ["--format", "xml", "a.yaml"], ["--fail-on=never", "a.yaml"],
                                  ["--strict", "a.yaml"], []])
def test_unusual_validate_calls_go_through_typer(args):
    from ahsd_config.cli.app import parse_plain_validate

    assert parse_plain_validate(args) is None


def test_plain_validate_calls_are_parsed():
    from ahsd_config.cli.app import parse_plain_validate

    assert parse_plain_validate(["a.yaml", "-f", "sarif", "--fail-on=warning", "-o", "x.sarif", "b.yaml"]) == {
        "paths": ["a.yaml", "b.yaml"], "fmt": "sarif", "fail_on": "warning", "output": Path("x.sarif")}
