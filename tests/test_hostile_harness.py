"""The hostile pass's harness (tests/hostile/config) must not rot: the first probe of every kind runs
and holds, and each flag the harness raises is seen to fire on a command that earns it."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "tests/hostile/config"
EXE = ROOT / ".venv/bin/ahsd-config"


def _load_runner():
    sys.path.insert(0, str(HARNESS))
    try:
        spec = importlib.util.spec_from_file_location("hostile_config_run", HARNESS / "run.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(HARNESS))
    return module


@pytest.fixture(scope="module")
def runner():
    return _load_runner()


def _target(runner, tmp_path: Path, exe: Path):
    import harness

    return harness.Target(ROOT, exe, tmp_path)


@pytest.mark.skipif(not EXE.exists(), reason="needs the project's .venv (make install)")
def test_the_first_probe_of_every_kind_runs_and_holds(runner, tmp_path):
    target = _target(runner, tmp_path, EXE)
    by_kind = runner.all_probes(target)
    assert len(by_kind) >= 14 and sum(map(len, by_kind.values())) > 2500
    chosen = [(slot, p) for slot, p in runner.select(by_kind, None, 0, 10**6, None)]
    assert [slot for slot, _ in chosen] == [f"{kind}-0000" for kind in by_kind]
    results = runner.run(target, chosen, jobs=2, results=tmp_path / "results.jsonl", quiet=True)
    assert [(r["slot"], r["problems"]) for r in results if r["problems"]] == []
    table = runner.summary(runner.read_results(tmp_path / "results.jsonl"))
    assert f"| **all** | {len(chosen)} | {len(chosen)} | 0 |" in table


FAKE = """#!/bin/sh
# a stand-in ahsd-config that earns every flag at once
touch "$HOSTILE_PWN" configs/.enhanced_training.yaml.1.x.tmp
printf 'Traceback (most recent call last):\\n\\033[2Jboom\\nsecond line\\n' >&2
echo changed >> configs/enhanced_training.yaml
exit 2
"""


def test_each_flag_fires_on_a_command_that_earns_it(runner, tmp_path):
    import harness

    fake = tmp_path / "fake-ahsd-config"
    fake.write_text(FAKE)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    target = _target(runner, tmp_path / "work", fake)
    harness.make_template(target)
    probe = harness.Probe("fake", "every flag", ["validate"], rcs=(0, 1))
    r = harness.run_probe(target, probe, "fake-0")
    flags = {problem.split(" ")[0] for problem in r["problems"]}
    assert flags == {"TRACEBACK", "RC", "CHANGED", "LEFTOVER", "CODE", "RAW"}  # RAW CONTROL: the ESC
    assert r["soft"] == [] and (target.runs / "fake-0").is_dir()  # a broken probe's folder is kept

    printer = tmp_path / "printer"
    printer.write_text("#!/bin/sh\nprintf '{\"a\": \\\\x85}'\n")
    printer.chmod(0o755)
    r = harness.run_probe(harness.Target(ROOT, printer, tmp_path / "work"),
                          harness.Probe("fake", "json", ["validate", "-f", "json"]), "fake-2")
    assert [x.split(" (")[0] for x in r["problems"]] == ["BAD JSON"]

    hang = harness.Probe("fake", "hang", ["x"], timeout=1)
    sleeper = tmp_path / "sleeper"
    sleeper.write_text("#!/bin/sh\nsleep 30 &\nwait\n")
    sleeper.chmod(0o755)
    r = harness.run_probe(harness.Target(ROOT, sleeper, tmp_path / "work"), hang, "fake-1")
    assert r["problems"] == ["HANG (> 1 s)"] and r["seconds"] < 10


def test_a_gate_that_passes_while_validate_fails_is_flagged(runner, tmp_path):
    import harness

    fake = tmp_path / "fake"
    fake.write_text('#!/bin/sh\n[ "$1" = ci ] && exit 0\nexit 1\n')
    fake.chmod(0o755)
    target = _target(runner, tmp_path / "work", fake)
    harness.make_template(target)
    r = harness.run_probe(target, harness.Probe("gate", "g", ["ci"], is_gate=True), "g-0")
    assert r["problems"] == [f"GATE PASS but validate configs/{name} rc 1"
                             for name in sorted(os.listdir(ROOT / "configs")) if name.endswith((".yaml", ".yml"))]


def test_the_options_kind_attacks_every_value_the_cli_takes(runner):
    """A new option or argument of any command must join `kinds_extra.OPTION_SLOTS` (the harness
    gives each one every bad value kind)."""
    import typer.main

    import kinds_extra
    from ahsd_config.cli.app import build_app

    cli = typer.main.get_command(build_app())
    takes = {(name, p.name) for name, command in cli.commands.items() for p in command.params
             if not getattr(p, "is_flag", False)}
    assert {(command, param) for command, param, _ in kinds_extra.OPTION_SLOTS} == takes


def test_no_probe_names_a_path_outside_the_work_folder(runner, tmp_path):
    """The harness runs as root: a probe value `../../../../etc/passwd` once climbed out of the probe's
    folder and `stamp`/`schema -o` replaced that file. Every probe's paths stay in the work folder,
    and a probe that would leave it is refused before it runs."""
    import harness

    target = _target(runner, tmp_path, tmp_path / "never-run")
    by_kind = runner.all_probes(target)
    escaping = [(kind, p.name) for kind, probes in by_kind.items() for i, p in enumerate(probes)
                if harness.escapes(target, target.runs / f"{kind}-{i:04d}", p)]
    assert escaping == []
    harness.make_template(target)
    for argv in (["stamp", "../../../../../../../../etc/x", "head"], ["validate", "-o", "/tmp/x.json"],
                 ["ci", "--sarif=/etc/x"]):
        r = harness.run_probe(target, harness.Probe("k", "escape", argv), "k-0")
        assert r["rc"] is None and r["problems"][0].startswith("SETUP names a path outside the work folder")
