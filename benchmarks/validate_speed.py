"""Whole-process speed of `ahsd-config validate` against yamllint and check-jsonschema.

Each tool runs as a fresh process on the same file (what an editor's on-save hook or a pre-commit
hook pays), alternating tool by tool within each round so drift in machine load hits all three
equally. Prints the median wall time of each and its ratio to yamllint.

    python benchmarks/validate_speed.py [--file PATH] [--runs 15] [--against REF]

`--against REF` adds `ahsd-config validate` as it was at git REF (extracted with `git archive` into a
temp folder, run by the same interpreter) to the alternation: before and after in one run.

The default file is the user's newest config in ../shared/corpus (read in place, never copied);
without the corpus, the project's shipped `configs/enhanced_training.yaml` (said in the output).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEWEST = REPO.parent / "shared" / "corpus" / "posteriflow" / "enhanced_training" / "2026-07-07T1404_380b413.yaml"
SHIPPED = REPO / "configs" / "enhanced_training.yaml"
SCHEMA = REPO / "schemas" / "enhanced_training.schema.json"


def default_file() -> Path:
    """The corpus's newest config when ../shared is there, else the shipped config."""
    if NEWEST.is_file():
        return NEWEST
    print(f"note: corpus not found at {NEWEST.parent}; timing the shipped {SHIPPED.relative_to(REPO)}",
          file=sys.stderr)
    return SHIPPED


def tool(name: str) -> str:
    """The console script next to this interpreter (the venv's), else the one on PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def commands(path: Path) -> dict[str, list[str]]:
    return {
        "ahsd-config validate": [tool("ahsd-config"), "validate", str(path)],
        "yamllint": [tool("yamllint"), str(path)],
        "check-jsonschema": [tool("check-jsonschema"), "--schemafile", str(SCHEMA), str(path)],
    }


# `ahsd-config validate FILE` with ahsd_config imported from ROOT (the editable install's finder is
# removed so that sys.path decides): how an older tree is run next to this one.
AT_ROOT = """
import sys
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path.insert(0, sys.argv[1])
import ahsd_config
assert ahsd_config.__file__.startswith(sys.argv[1]), ahsd_config.__file__
sys.argv = ["ahsd-config", "validate", sys.argv[2]]
from ahsd_config.cli.app import main
main()
"""


def extract(ref: str, folder: str) -> None:
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)


def time_once(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    elapsed = time.perf_counter() - start
    # 1 = findings, still a complete run; a traceback (a stale console script) exits 1 too
    if done.returncode not in (0, 1) or b"Traceback" in done.stderr:
        sys.exit(f"{argv[0]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=None,
                        help="config to validate (default: the corpus's newest, else the shipped config)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--against", metavar="REF", help="also time `ahsd-config validate` as it was at git REF")
    args = parser.parse_args()
    args.file = args.file or default_file()
    if not args.file.is_file():
        sys.exit(f"no such file: {args.file}")
    with tempfile.TemporaryDirectory() as folder:
        cmds = commands(args.file)
        if args.against:
            extract(args.against, folder)
            cmds[f"  ... at {args.against}"] = [sys.executable, "-c", AT_ROOT, folder, str(args.file)]
        run(cmds, args)


def run(cmds: dict[str, list[str]], args: argparse.Namespace) -> None:
    for argv in cmds.values():  # warm the page cache and .pyc files
        time_once(argv)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.runs):
        for name, argv in cmds.items():
            times[name].append(time_once(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["yamllint"]
    print(f"file: {args.file.name}   runs: {args.runs} each, alternating   python: {sys.version.split()[0]}")
    print(f"{'tool':<24}{'median ms':>12}{'min ms':>10}{'vs yamllint':>14}")
    for name, values in times.items():
        print(f"{name:<24}{medians[name] * 1000:>12.1f}{min(values) * 1000:>10.1f}{medians[name] / base:>13.2f}x")
    warm = warm_validate_ms(args.file, args.runs)
    print(f"in-process validate_path (warm, imports paid): median {warm:.1f} ms — the rest of a run is "
          f"interpreter start-up, imports and the first validation (pydantic: its import, the model classes, the root validator; `python benchmarks/validate_breakdown.py` splits them)")


def warm_validate_ms(path: Path, runs: int) -> float:
    """Steady-state cost of one validation once everything is imported (an editor plugin's view)."""
    from ahsd_config.api.validate import validate_path

    validate_path(path)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        validate_path(path)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


if __name__ == "__main__":
    main()
