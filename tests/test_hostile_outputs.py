"""`validate -o` naming a config being validated (any spelling of it: relative, absolute, through
`..` or a symlink) is refused, exit 2, the config byte-for-byte unchanged; it used to replace the
config by its own report, exit 0 (hostile review after the issue 11 redesign). Both roads of the
command: the plain fast path (`main()`) and Typer."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ahsd_config.cli.app import app, main

REPO = Path(__file__).resolve().parents[1]
CONFIG = (REPO / "configs" / "enhanced_training.yaml").read_bytes()


def spellings(folder: Path) -> dict[str, str]:
    os.symlink("c.yaml", folder / "link.yaml")
    return {"relative": "c.yaml", "absolute": str(folder / "c.yaml"), "dotdot": f"../{folder.name}/c.yaml",
            "dot": "./c.yaml", "symlink": "link.yaml"}


def run_plain(args: list[str], monkeypatch) -> int:
    monkeypatch.setattr(sys, "argv", ["ahsd-config", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spelling=st.sampled_from(["relative", "absolute", "dotdot", "dot", "symlink"]),
       fmt=st.sampled_from(["text", "json", "sarif", "github"]), glob=st.booleans(), plain=st.booleans())
def test_the_report_never_replaces_a_config_it_validates(tmp_path_factory, monkeypatch, spelling, fmt, glob, plain):
    folder = tmp_path_factory.mktemp("v")
    (folder / "c.yaml").write_bytes(CONFIG)
    target = spellings(folder)[spelling]
    monkeypatch.chdir(folder)
    args = ["validate", "-f", fmt, "-o", target, "*.yaml" if glob else "c.yaml"]
    code = run_plain(args, monkeypatch) if plain else CliRunner().invoke(app, args).exit_code
    assert code == 2
    assert (folder / "c.yaml").read_bytes() == CONFIG
    assert (folder / "link.yaml").is_symlink()
