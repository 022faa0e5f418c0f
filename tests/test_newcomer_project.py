"""Issue 13 item 1: both tools find the project the way git and pre-commit do (walk up to the
pyproject.toml with [tool.ahsd]), read the shipped chain outside one, and never write into it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.input import project as P
from ahsd_config.cli.app import app
from ahsd_config.errors import InputError
from ahsd_config.api import migrations as C
from transient import TRANSIENT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HEAD = C.load_chain(ROOT).head  # the project's head revision (the walk-up finds ROOT's chain)
runner = CliRunner()


def shipped_snapshot() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(P.SHIPPED_CHAIN.iterdir())}


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """An empty folder in no project, as cwd (tmp_path has no pyproject.toml above it)."""
    where = tmp_path / "nowhere"
    where.mkdir()
    monkeypatch.chdir(where)
    assert P.find_project() is None
    return where


@pytest.fixture
def proj(tmp_path, monkeypatch):
    """A scratch project (pyproject with [tool.ahsd], the chain, the config), cwd in a subfolder."""
    root = tmp_path / "proj"
    (root / "notebooks" / "deep").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.ahsd]\nmigrations = "migrations"\n')
    shutil.copytree(ROOT / "migrations", root / "migrations", ignore=TRANSIENT)
    shutil.copytree(ROOT / "configs", root / "configs")
    monkeypatch.chdir(root / "notebooks" / "deep")
    return root


# --- the discovery module ------------------------------------------------------------------------


def test_walks_up_past_other_packages_pyproject(proj):
    inner = proj / "notebooks" / "deep"
    (inner / "pyproject.toml").write_text('[project]\nname = "not-ours"\n')  # no [tool.ahsd]: walked past
    found = P.find_project()
    assert found is not None and found.root == proj
    assert found.migrations == proj / "migrations"
    assert found.default_config == proj / "configs" / "enhanced_training.yaml"
    assert P.find_chain().folder == proj / "migrations"
    assert P.find_project(proj / "configs" / "enhanced_training.yaml").root == proj  # a file: its folder


def test_settings_defaults_and_bad_tables(tmp_path):
    assert P.parse_settings('[tool.ahsd]\n') == P.Settings()
    assert P.parse_settings('[tool.other]\nx = 1\n') is None
    assert P.parse_settings('[tool.black\n') is None  # another tool's broken file: not ours
    with pytest.raises(InputError, match=r"cannot read \[tool.ahsd\]"):
        P.parse_settings('[tool.ahsd]\nmigrations = \n')
    with pytest.raises(InputError, match="config_globs must be a list of strings"):
        P.parse_settings('[tool.ahsd]\nconfig_globs = [1]\n')


# --- ahsd-config outside a project ----------------------------------------------------------------


def test_readers_use_the_shipped_chain_and_say_so(outside):
    res = runner.invoke(app, ["heads"])
    assert res.exit_code == 0 and res.stdout.startswith(f"{HEAD} ")
    assert res.stderr.startswith("note: no ahsd project here (no pyproject.toml with [tool.ahsd] in ")
    assert runner.invoke(app, ["diff", "v13", "v15"]).exit_code == 0
    assert runner.invoke(app, ["explain", "AHSD101"]).exit_code == 0
    res = runner.invoke(app, ["validate", str(ROOT / "configs" / "enhanced_training.yaml")])
    assert res.exit_code == 0, res.output
    assert tree(outside) == []


def test_schema_outside_a_project_says_so_and_creates_nothing(outside):
    for args in (["schema", "--check"], ["schema"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert res.stderr.startswith("no ahsd project here: no pyproject.toml with a [tool.ahsd] table in ")
        assert "stale" not in res.output
    res = runner.invoke(app, ["schema", "-o", "-"])
    assert res.exit_code == 0 and res.stdout.startswith('{\n  "$schema"')
    assert tree(outside) == []


def test_schema_check_in_a_project_finds_the_file_from_a_subfolder(proj):
    shutil.copytree(ROOT / "schemas", proj / "schemas")
    res = runner.invoke(app, ["schema", "--check"])
    assert res.exit_code == 0 and res.stdout == f"{proj / 'schemas' / 'enhanced_training.schema.json'} is up to date\n"
    assert not (proj / "notebooks" / "deep" / "schemas").exists()


def test_every_revision_writer_refuses_outside_a_project(outside):
    """The class: anything that writes revisions into a chain (`doctor --propose-migration` drafts
    into the run directory, not a chain). None may touch the installed package's chain."""
    before = shipped_snapshot()
    edited = outside / "edited.yaml"
    edited.write_text((ROOT / "configs" / "enhanced_training.yaml").read_text().replace(
        "batch_size: 64", "batch_size: 32"))
    for args in (["revision", "-m", "t", "--from", str(edited), "--no-stamp"],
                 ["merge", "v260702", "v260707", "-m", "t"],
                 ["squash", "v260702", "v260707"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert "no ahsd project here" in res.stderr and "never into the installed package" in res.stderr
    assert shipped_snapshot() == before
    assert tree(outside) == ["edited.yaml"]


def test_revision_from_a_subfolder_writes_into_the_project(proj):
    edited = proj / "configs" / "enhanced_training.yaml"
    edited.write_text(edited.read_text().replace("batch_size: 64", "batch_size: 32"))
    before = shipped_snapshot()
    res = runner.invoke(app, ["-v", "revision", "-m", "smaller batch", "--from", str(edited), "--id", "vx"])
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[0] == f"project: {proj}; chain: {proj / 'migrations'}"
    assert [p.name for p in (proj / "migrations").glob("*_vx.yaml")] != []
    assert shipped_snapshot() == before
    assert C.load_chain().head == "vx"


def test_validate_without_paths_checks_the_projects_config_globs(proj):
    res = runner.invoke(app, ["validate"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0].startswith("../../configs/enhanced_training.yaml:")
    assert res.stdout.splitlines()[-1].startswith("1 file checked: 0 errors, ")


def test_validate_without_paths_outside_a_project(outside):
    res = runner.invoke(app, ["validate"])
    assert res.exit_code == 2
    assert res.stderr.endswith("any folder above it; pass the config files to validate\n")


# --- ahsd-train run without --config ----------------------------------------------------------


def test_train_without_config_outside_a_project(outside):
    from ahsd_train.cli import app as train_app

    res = runner.invoke(train_app, ["run", "--quick"])
    assert res.exit_code == 2
    assert res.stderr.startswith("no ahsd project here") and "pass --config PATH" in res.stderr


def test_bare_train_run_never_starts_a_full_run(proj):
    from ahsd_train.cli import app as train_app

    res = runner.invoke(train_app, ["run"])
    assert res.exit_code == 2
    assert res.stderr == ("error: no --config: a full run of the project's default config "
                          "(../../configs/enhanced_training.yaml) is started only when named; pass "
                          "--config ../../configs/enhanced_training.yaml (or --quick for a 2-epoch "
                          "demonstration, --epochs N for a shorter run)\n")
    assert not (proj / "runs").exists()


def test_quick_from_a_subfolder_uses_the_project_config_and_runs_dir(proj):
    from ahsd_train.cli import app as train_app

    res = runner.invoke(train_app, ["run", "--quick", "--max-steps", "2", "--set", "data.synthetic.n_scenarios=96",
                                    "--set", "priority_net.batch_size=32", "--set", "data.synthetic.test_scenarios=64"])
    assert res.exit_code == 0, res.output
    line = next(l for l in res.stderr.splitlines() if l.startswith("training "))
    assert line.startswith(f"training ../../configs/enhanced_training.yaml ({HEAD}): 2 epoch(s), at most 2 "
                           "steps, 96 synthetic scenarios, batch 32, device cpu (--quick) -> ")
    runs = list((proj / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "report.json").is_file()
    assert line.endswith(f"-> {runs[0]}")
