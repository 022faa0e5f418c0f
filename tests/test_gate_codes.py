"""`ahsd-config explain` knows every code the gate prints (AHSD6xx), and only those."""

import re

from typer.testing import CliRunner

from ahsd_config.gate import result as gate
from ahsd_config.cli.app import app
from ahsd_config.rules.gate_codes import GATE_CODES

runner = CliRunner()


def _gate_codes() -> set[str]:
    return {v for v in vars(gate).values() if isinstance(v, str) and re.fullmatch(r"AHSD6\d\d", v)}


def test_every_gate_code_is_documented_and_nothing_else():
    assert _gate_codes() == set(GATE_CODES)
    for gc in GATE_CODES.values():
        assert gc.check in gate.CHECKS, gc
        assert gc.title and gc.why and gc.fix


def test_explain_prints_a_gate_code_with_its_check_why_and_fix():
    res = runner.invoke(app, ["explain", "AHSD601"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("AHSD601 (gate, `ahsd-config ci` check 'recorded'): a value changed that no "
                                 "revision in the pull request records\n")
    assert "\nfix: record the edit: `ahsd-config revision -m TITLE --from CONFIG`" in res.stdout


def test_an_unknown_code_suggests_gate_codes_too():
    res = runner.invoke(app, ["explain", "AHSD612"])
    assert res.exit_code == 2
    assert "did you mean AHSD61" in res.stderr
