"""Where one `ahsd-config validate` process spends its time, against yamllint's whole run.

    python benchmarks/validate_breakdown.py [--file PATH] [--runs 11]

Every figure is the median over fresh processes (nothing is cached across runs; each process
imports and builds everything again), rounds alternating between the probes so load drift hits all:

- interpreter: `python -c pass` (start-up, site, the editable-install hook);
- imports by group: one `python -X importtime` run of the validate probe per round, self times
  summed by group (pydantic and the libraries it pulls in; ahsd_config.schema, i.e. pydantic
  building the model classes; PyYAML; the rest of ahsd_config; the standard library);
- phases, timed in-process in a fresh process: read + compose (the loader), schema (the first
  validation, which builds the root validator: the models use defer_build), rules, render;
- `ahsd-config validate` and `yamllint` whole processes, for the ratio.

The floor is what any validator that uses these pydantic models pays before reading a byte:
interpreter + pydantic's import + building the models and the root validator.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_speed import default_file, tool  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# The validate pipeline, phase by phase (what `ahsd-config validate FILE` runs, text format).
PHASES = r"""
import json, sys, time
t = [time.perf_counter()]
import pydantic, pydantic.main
t.append(time.perf_counter())
import ahsd_config.schema
t.append(time.perf_counter())
from ahsd_config.render import render
from ahsd_config.input.loader import load_file
from ahsd_config.rules.registry import RuleContext
from ahsd_config.api.validate import (apply_suppressions, rule_findings, schema_findings,
                                  suppression_findings)
from ahsd_config.findings import FileReport
t.append(time.perf_counter())
doc = load_file(sys.argv[1])
data = doc.plain()
t.append(time.perf_counter())
config, findings = schema_findings(doc, data)
t.append(time.perf_counter())
findings.extend(rule_findings(RuleContext(doc, data, config)))
kept, suppressed = apply_suppressions(doc, findings)
kept.extend(suppression_findings(doc, suppressed, schema_ok=config is not None))
t.append(time.perf_counter())
text = render("text", [FileReport(doc.path, tuple(kept), tuple(suppressed))])
t.append(time.perf_counter())
names = ["import pydantic", "import schema (model classes)", "import the rest", "read + compose",
         "schema (first validation)", "rules + suppressions", "render"]
print(json.dumps({n: (b - a) * 1000 for n, a, b in zip(names, t, t[1:])}))
"""

GROUPS = [  # (group, module-name pattern), first match wins
    ("pydantic + pydantic_core + typing helpers", r"^(pydantic|pydantic_core|annotated_types|typing_extensions|typing_inspection)\b"),
    ("stdlib pulled by pydantic (importlib.metadata, email, zoneinfo, ...)", r"^(importlib\.metadata|email|zoneinfo|quopri|urllib|uu|calendar|locale|fractions|decimal|numbers|uuid|ipaddress)\b"),
    ("ahsd_config.schema (model classes)", r"^ahsd_config\.schema\b"),
    ("ahsd_config.rules", r"^ahsd_config\.rules\b"),
    ("ahsd_config (loader, validate, formats, cli, ...)", r"^ahsd_config\b"),
    ("PyYAML (libyaml)", r"^(yaml|_yaml)\b"),
    ("ruamel.yaml", r"^ruamel\b"),
]


def importtime_groups(path: Path) -> dict[str, float]:
    probe = ("import sys; sys.argv = ['ahsd-config', 'validate', sys.argv[1]]\n"
             "from ahsd_config.cli.app import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", probe, str(path)],
                          capture_output=True, text=True, cwd=REPO)
    sums: dict[str, float] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \| \s*(\S+)", line)
        if not m:
            continue
        name = m.group(2)
        group = next((g for g, pattern in GROUPS if re.match(pattern, name)), "other stdlib (site, re, typing, dataclasses, ...)")
        sums[group] = sums.get(group, 0.0) + int(m.group(1)) / 1000
    return sums


def wall_ms(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode not in (0, 1) or b"Traceback" in done.stderr:
        sys.exit(f"{argv[0]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    path = args.file or default_file()
    probes = {
        "interpreter (python -c pass)": [sys.executable, "-c", "pass"],
        "import pydantic.main (python -c)": [sys.executable, "-c", "import pydantic.main"],
        "ahsd-config validate": [tool("ahsd-config"), "validate", str(path)],
        "yamllint": [tool("yamllint"), str(path)],
    }
    walls: dict[str, list[float]] = {name: [] for name in probes}
    phases: dict[str, list[float]] = {}
    groups: dict[str, list[float]] = {}
    for argv in probes.values():  # warm the page cache and .pyc files
        wall_ms(argv)
    for _ in range(args.runs):
        for name, argv in probes.items():
            walls[name].append(wall_ms(argv))
        done = subprocess.run([sys.executable, "-c", PHASES, str(path)], capture_output=True, text=True, cwd=REPO)
        for name, ms in json.loads(done.stdout).items():
            phases.setdefault(name, []).append(ms)
        for name, ms in importtime_groups(path).items():
            groups.setdefault(name, []).append(ms)
    med = {name: statistics.median(v) for name, v in walls.items()}
    print(f"file: {path.name}   runs: {args.runs}, alternating   python: {sys.version.split()[0]}")
    print("\nwhole processes (median ms)")
    for name, ms in med.items():
        print(f"  {name:<42}{ms:8.1f}   {ms / med['yamllint']:5.2f}x yamllint")
    print("\nphases of one validate, in a fresh process (median ms)")
    for name, values in phases.items():
        print(f"  {name:<42}{statistics.median(values):8.1f}")
    print("\nimports by group, self time under -X importtime (median ms; importtime adds its own overhead)")
    for name, values in sorted(groups.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {name:<70}{statistics.median(values):8.1f}")
    floor = (med["interpreter (python -c pass)"] + statistics.median(phases["import schema (model classes)"])
             + med["import pydantic.main (python -c)"] - med["interpreter (python -c pass)"]
             + statistics.median(phases["schema (first validation)"]))
    print(f"\nfloor for any validator on these pydantic models (interpreter + import pydantic + model classes "
          f"+ first validation): {floor:.1f} ms = {floor / med['yamllint']:.2f}x yamllint")


if __name__ == "__main__":
    main()
