"""AHSD401/AHSD402 against real chains: the project's, and a copy with a drafted revision."""

from __future__ import annotations

import shutil
from pathlib import Path

from ahsd_config.api.migrations import load_chain, new_revision, stamp
from ahsd_config.migrate import PLACEHOLDER
from ahsd_config.api.validate import validate_path
from transient import TRANSIENT  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def codes(path: Path) -> list[str]:
    return [f.code for f in validate_path(str(path)).findings if f.code.startswith("AHSD4")]


def draft_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with the project's chain and config, plus a drafted (placeholder) revision."""
    (tmp_path / "pyproject.toml").write_text("[tool.ahsd]\nmigrations = \"migrations\"\n")
    shutil.copytree(REPO / "migrations", tmp_path / "migrations", ignore=TRANSIENT)
    config = tmp_path / "configs" / "enhanced_training.yaml"
    config.parent.mkdir()
    text = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("  batch_size: 128 ", "  batch_size: 32 ", 1), encoding="utf-8")
    chain = load_chain(tmp_path)
    revision = new_revision("smaller batch", config, rev_id="v261126", rmap=chain, folder=tmp_path / "migrations")
    stamp(config, "v261126", rmap=load_chain(tmp_path))
    return config, Path(revision.path)


def test_the_project_config_has_no_migration_findings():
    assert codes(REPO / "configs" / "enhanced_training.yaml") == []


def test_a_drafted_revision_is_refused_until_its_rationale_is_written(tmp_path):
    config, revision_file = draft_repo(tmp_path)
    report = validate_path(str(config))
    [finding] = [f for f in report.findings if f.code == "AHSD402"]
    assert finding.severity == "error"
    assert finding.line == next(i for i, line in enumerate(config.read_text().splitlines(), 1)
                                if line.startswith("revision:"))
    assert "v261126 change 1 (priority_net.batch_size)" in finding.message

    written = revision_file.read_text().replace(PLACEHOLDER, "64 left too few steps per epoch on the small dataset")
    revision_file.write_text(written)
    assert codes(config) == []


def test_a_stamp_outside_the_chain_is_unknown_not_unwritten(tmp_path):
    config, _ = draft_repo(tmp_path)
    config.write_text(config.read_text().replace("revision: v261126", "revision: v99"))
    assert codes(config) == ["AHSD401"]
