"""Output formats: exact text lines, the JSON contract, SARIF 2.1.0 validity, GitHub escaping."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ahsd_config.findings import FileError, FileReport, Finding, Suppressed, exit_code
from ahsd_config.render import FORMATS, render
from ahsd_config.render.github_format import escape_data, escape_property

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "external-schemas" / "sarif-schema-2.1.0.json"

BATCH = Finding("AHSD101", "error", "priority_net.batch_size = 6 is below 8", "priority_net.batch_size", 47, 3,
                "raise it to 24")
CLIP = Finding("AHSD102", "warning", "priority_net.gradient_clip_norm = 2 is below 4, it suppresses: a lot",
               "priority_net.gradient_clip_norm", 86, 3, "use 5.0")
INFO = Finding("AHSD502", "info", "stage: not used", "stage", 12, 1, "")
REPORTS = [
    FileReport("configs/a.yaml", (INFO, BATCH, CLIP), (Suppressed(BATCH, "smoke run"),)),
    FileReport("configs/missing.yaml", error=FileError("no such file: configs/missing.yaml")),
]


def test_text_lines_and_summary():
    assert render("text", REPORTS).splitlines() == [
        "configs/a.yaml:12:1 AHSD502 info stage: not used",
        "configs/a.yaml:47:3 AHSD101 error priority_net.batch_size = 6 is below 8",
        "    hint: raise it to 24",
        "configs/a.yaml:86:3 AHSD102 warning priority_net.gradient_clip_norm = 2 is below 4, it suppresses: a lot",
        "    hint: use 5.0",
        "2 files checked: 1 error, 1 warning, 1 info (1 suppressed, 1 unreadable)",
    ]


def test_json_contract():
    data = json.loads(render("json", REPORTS))
    first = data["files"][0]
    assert set(first) == {"path", "findings", "suppressed"}
    assert first["findings"][1] == {
        "code": "AHSD101", "severity": "error", "message": "priority_net.batch_size = 6 is below 8",
        "key": "priority_net.batch_size", "line": 47, "column": 3, "hint": "raise it to 24",
    }
    assert first["suppressed"][0]["reason"] == "smoke run"
    assert data["files"][1]["error"] == {"message": "no such file: configs/missing.yaml", "line": 1, "column": 1}


@pytest.mark.skipif(not SARIF_SCHEMA.is_file(), reason=f"SARIF schema not present at {SARIF_SCHEMA}")
def test_sarif_validates_against_the_2_1_0_schema():
    sarif = json.loads(render("sarif", REPORTS))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(sarif, schema)
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"AHSD101", "AHSD102", "AHSD502"} <= set(rule_ids)
    result = run["results"][1]
    assert result["ruleId"] == "AHSD101" and result["level"] == "error"
    assert rule_ids[result["ruleIndex"]] == "AHSD101"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "configs/a.yaml"}, "region": {"startLine": 47, "startColumn": 3}}
    assert run["results"][0]["level"] == "note"
    assert run["invocations"][0]["executionSuccessful"] is False
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "AHSD101")
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]


def test_github_annotations_escape_properties_and_data():
    lines = render("github", REPORTS).splitlines()
    assert lines[0] == "::notice file=configs/a.yaml,line=12,col=1,title=AHSD502::stage: not used"
    assert lines[1] == ("::error file=configs/a.yaml,line=47,col=3,title=AHSD101::"
                        "priority_net.batch_size = 6 is below 8%0Araise it to 24")
    assert lines[3] == "::error file=configs/missing.yaml,line=1,col=1,title=ahsd-config%3A unreadable::no such file: configs/missing.yaml"
    assert escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert escape_property("a,b:c%") == "a%2Cb%3Ac%25"


def test_every_format_renders_an_empty_run():
    for fmt in FORMATS:
        assert render(fmt, [FileReport("c.yaml")]).endswith("\n") or fmt == "github"


def test_exit_codes():
    assert exit_code([FileReport("a", (INFO,))]) == 0
    assert exit_code([FileReport("a", (INFO,))], "info") == 1
    assert exit_code([FileReport("a", (CLIP,))]) == 0
    assert exit_code([FileReport("a", (CLIP,))], "warning") == 1
    assert exit_code([FileReport("a", (BATCH,))]) == 1
    assert exit_code(REPORTS) == 2
