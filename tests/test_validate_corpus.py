"""Acceptance on the user's real history (../shared/corpus, read in place, never copied).

Every file from 2025-11-11 on gets a verdict; the Nov 15 21:10 file (after the five fixes) has no
errors; the same file with the seed note's pre-fix values is refused at the right lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.input.loader import load_text
from ahsd_config.rules._examples import apply_fragment
from ahsd_config.api.validate import validate_document

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "posteriflow" / "enhanced_training"
FIXED = CORPUS / "2025-11-15T2110_876dba0.yaml"
FIRST_SHARED_LAYOUT = "2025-11-11"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"user corpus not present at {CORPUS} (../shared/corpus)"),
]

# The seed note (shared/seed/000_6838c7784b70edb0.txt): the values before the Nov 15 fixes.
PRE_FIX = (
    "priority_net:\n"
    "  batch_size: 6\n"
    "  gradient_clip_norm: 2.0\n"
    "  uncertainty_weight: 0.35\n"
    "  calib_max_weight: 2.50\n"
    "  calib_range_weight: 2.00\n"
    "  min_variance_penalty_weight: 10.0\n"
)


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.yaml") if p.name >= FIRST_SHARED_LAYOUT) if CORPUS.is_dir() else []


def line_of(text: str, needle: str) -> int:
    """The one line whose content (comment stripped) is `needle`, or starts with it if it ends in ':'."""
    rows = [row.split("#", 1)[0].rstrip() for row in text.splitlines()]
    [line] = [i for i, row in enumerate(rows, 1) if row == needle or (needle.endswith(":") and row.startswith(needle))]
    return line


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_file_gets_a_verdict(path):
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code in (0, 1), result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout.splitlines()[-1].startswith("1 file checked: ")


def test_the_fixed_nov_15_file_has_no_errors():
    text = FIXED.read_text(encoding="utf-8")
    report = validate_document(load_text(text, str(FIXED)))
    assert [f for f in report.findings if f.severity == "error"] == []
    warnings = [(f.code, f.key, f.line) for f in report.findings if f.severity == "warning"]
    assert warnings == [
        # The user's files carry no migration stamp; stamps come with ahsd-config migrations.
        ("AHSD001", "revision", 1),
        # Penalties 0.30 + 0.50 + 0.40 + 0.05 + the code's min-variance 2.0 (after fix #3) = 3.25
        # against a primary 1.00: still dominant, but under the 5x error line; the seed note's
        # next fix #2 (normalise by components) is the remedy. Reported at `priority_net:` because
        # the min-variance weight was a code constant, not a key in this file.
        ("AHSD104", "priority_net.min_variance_penalty_weight", line_of(text, "priority_net:")),
        # `scheduler_threshold: 5e-3` is the string '5e-3' to the user's PyYAML reader.
        ("AHSD003", "priority_net.scheduler_threshold", line_of(text, "  scheduler_threshold:")),
        # loss_scale_factor 0.002 puts the clip of 5.0 at 2500 on the unit-scale gradient (v261129).
        ("AHSD108", "priority_net.loss_scale_factor", line_of(text, "  loss_scale_factor: 0.002")),
    ]


def test_the_pre_fix_values_are_refused_at_their_lines(tmp_path):
    text = apply_fragment(FIXED.read_text(encoding="utf-8"), PRE_FIX)
    path = tmp_path / "pre_fix.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 1
    import json

    findings = {f["code"]: f for f in json.loads(result.stdout)["files"][0]["findings"]}
    batch = findings["AHSD101"]
    assert (batch["severity"], batch["line"], batch["column"]) == ("error", line_of(text, "  batch_size: 6"), 3)
    clip = findings["AHSD102"]
    assert (clip["severity"], clip["line"]) == ("warning", line_of(text, "  gradient_clip_norm: 2.0"))
    penalty = findings["AHSD104"]
    assert penalty["severity"] == "error"
    assert penalty["line"] == line_of(text, "  min_variance_penalty_weight: 10.0")
    assert "14.85" in penalty["message"] and "1.25" in penalty["message"] and "11.9x" in penalty["message"]


def test_the_newest_file_is_valid_with_warnings_only():
    newest = corpus_files()[-1]
    report = validate_document(load_text(newest.read_text(encoding="utf-8"), str(newest)))
    assert not report.has_errors
