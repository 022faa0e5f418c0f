"""The authoring writers never land a revision the product itself would reject (hostile review, Nov 30).

Two classes: `revision --from FILE` recorded FILE's values even when the schema rejects them (NaN, a
900-digit seed, a wrong type), so `show head` and every `migrate` to head then failed; and a title
with a line break (`-m $'a\\nb'`) was written by `revision`, `merge` and `squash` although `log`,
`history` and the gate print titles on one line. Each must exit 2 with one message and write nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from transient import TRANSIENT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "enhanced_training.yaml"
runner = CliRunner()

NOT_RECORDED = "does not validate, so no revision was written"
# (key line as it stands in the project config, a replacement the product rejects, what it says)
INVALID = [
    ("  dropout: ", "  dropout: .nan\n", NOT_RECORDED),
    ("  dropout: ", "  dropout: .inf\n", NOT_RECORDED),
    ("  dropout: ", "  dropout: fast\n", NOT_RECORDED),
    ("  batch_size: ", "  batch_size: [1, 2]\n", NOT_RECORDED),
    ("  epochs: ", "  epochs: -3\n", NOT_RECORDED),
    # past int64 the loader refuses it for every command (a rule's float arithmetic overflowed)
    ("  batch_size: ", "  batch_size: " + "9" * 900 + "\n", "beyond the 64-bit range"),
    ("random_seed: ", "random_seed: 9223372036854775808\n", "beyond the 64-bit range"),
]


def project(tmp: Path) -> Path:
    """A copy of the project's chain and config: the writers write into it."""
    for name in ("migrations", "configs"):
        shutil.copytree(ROOT / name, tmp / name, ignore=TRANSIENT)
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def with_line(text: str, prefix: str, replacement: str) -> str:
    lines = text.splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    return "".join(lines[:i] + [replacement] + lines[i + 1:])


@pytest.mark.parametrize("prefix,replacement,says", INVALID)
def test_revision_from_a_file_the_schema_rejects_writes_nothing(tmp_path, monkeypatch, prefix, replacement, says):
    root = project(tmp_path)
    monkeypatch.chdir(root)
    source = root / "edited.yaml"
    source.write_text(with_line(CONFIG.read_text(), prefix, replacement))
    before = snapshot(root / "migrations")
    res = runner.invoke(app, ["revision", "--from", str(source), "-m", "an edit"])
    assert res.exit_code == 2, res.output
    assert says in res.stderr and "Traceback" not in res.output
    assert snapshot(root / "migrations") == before


def test_revision_from_a_valid_edit_still_writes_and_its_head_validates(tmp_path, monkeypatch):
    root = project(tmp_path)
    monkeypatch.chdir(root)
    source = root / "edited.yaml"
    source.write_text(with_line(CONFIG.read_text(), "  epochs: ", "  epochs: 13\n"))
    res = runner.invoke(app, ["revision", "--from", str(source), "-m", "thirteen epochs"])
    assert res.exit_code == 0, res.output
    shown = runner.invoke(app, ["show", "head"])
    assert shown.exit_code == 0 and "epochs: 13" in shown.stdout


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.text(min_size=1, max_size=8).filter(str.strip),
       brk=st.sampled_from(["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"]),
       tail=st.text(min_size=1, max_size=8).filter(str.strip))
def test_no_writer_lands_a_title_of_two_lines(tmp_path_factory, head, brk, tail):
    root = project(tmp_path_factory.mktemp("proj"))
    source = root / "edited.yaml"
    source.write_text(with_line(CONFIG.read_text(), "  epochs: ", "  epochs: 13\n"))
    title = head + brk + tail
    before = snapshot(root / "migrations")
    for args in (["revision", "--from", str(source), "-m", title],
                 ["squash", "v261129b", "v261130", "-m", title]):
        cwd = os.getcwd()
        os.chdir(root)  # the writers work on the project they are run in
        try:
            res = runner.invoke(app, args)
        finally:
            os.chdir(cwd)
        assert res.exit_code == 2, (args, res.output)
        assert "must be one line" in res.stderr and "Traceback" not in res.output
        assert snapshot(root / "migrations") == before
