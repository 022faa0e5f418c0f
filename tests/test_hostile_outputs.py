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


# --------------------------------------------------------------------------- merge writes one head

def _side_revision(parent: str) -> str:
    return (f"id: vside\nparents: [{parent}]\ndate: '2026-11-30'\ntitle: a side branch\nchanges: []\n")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), side=st.booleans())
def test_merge_writes_a_chain_with_one_head_or_nothing(tmp_path_factory, pick, side):
    """`merge v13 v13` and `merge v13 v15` used to write a revision that left two heads, which the
    gate's single-head check then refused. Any pair: one head after, or refused with nothing written."""
    import shutil

    from ahsd_config.api import migrations as commands
    from ahsd_config.errors import AhsdConfigError
    from ahsd_config.migrate import store

    chain = tmp_path_factory.mktemp("m") / "migrations"
    shutil.copytree(REPO / "migrations", chain)
    rmap = store.load_map(chain)
    if side:  # a second head beside the real one
        (chain / "2026-11-30_vside.yaml").write_text(_side_revision(rmap.get(rmap.head).parents[0]))
        rmap = store.load_map(chain)
    ids = list(rmap.order) + ["head"]
    a, b = ids[pick[0] % len(ids)], ids[pick[1] % len(ids)]
    before = sorted(p.name for p in chain.iterdir())
    try:
        commands.merge(a, b, "join", rmap=rmap, folder=chain)
    except AhsdConfigError as refused:  # `head` among two heads, a repeated or non-head revision
        assert refused.exit_code == 2
        assert sorted(p.name for p in chain.iterdir()) == before
        return
    assert len(store.load_map(chain).heads) == 1


def test_merge_of_the_two_heads_is_written(tmp_path):
    import shutil

    from ahsd_config.api import migrations as commands
    from ahsd_config.migrate import store

    chain = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", chain)
    head = store.load_map(chain).head
    (chain / "2026-11-30_vside.yaml").write_text(_side_revision(store.load_map(chain).get(head).parents[0]))
    commands.merge("vside", head, "join", rev_id="vjoin", rmap=store.load_map(chain), folder=chain)
    assert store.load_map(chain).heads == ["vjoin"]
