"""Migration commands against file size: N and 4N keys (issue 9: linear in the file).

    python benchmarks/migrate_scale.py [--n 5000] [--runs 3]

For N and 4N, each command as `ahsd-config` runs it (the Typer app, in a fresh process per tree,
output to /dev/null, after one warm-up on a small file), on a scratch project with a copy of the
chain: the median CPU seconds of the process (on a shared box other processes' load costs wall
time, not these), seconds per MB of the file, and the 4N/N ratio (about 4 when linear, 16 when
quadratic). The files:

- "unknown": the OLDEST revision's state, stamped, with N unknown keys under `priority_net:`
  (`unknown_key_i: i`, the issue's file); "unknown@head": the head state with the same keys;
- "list": the oldest state with N more items in `monitoring.metrics` (valid at every revision,
  so `migrate` writes it; with unknown keys it refuses after all the work, before the write).

Commands: `migrate FILE --to head` (unknown: refused by the final validation, exit 2; list: written),
`current FILE`, `diff FILE head --format json`, `diff FILE FILE@head --format json`, and
`revision -m T --from FILE@head` (N unknown keys become N `add` changes; past ~18,000 the revision
file itself holds more nodes than the loader reads, and `revision` refuses before writing). A last
row times ruamel's own read + write of the list file: the floor of any writer that keeps comments.

    python benchmarks/migrate_scale.py --against REF [--n 5000] [--runs 3]

times this tree against the project at git REF (extracted with `git archive`), alternating the two
trees run by run so that machine load hits both alike; prints both medians and REF/this-tree.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# One tree's timings, in a fresh process that imports ahsd_config from ROOT (the editable install's
# finder is removed so that sys.path decides). argv: ROOT N RUNS; prints {row: [seconds, MB, exit]}.
PROBE = r'''
import contextlib, io, json, os, shutil, statistics, sys, tempfile, time
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path.insert(0, sys.argv[1])
import ahsd_config
assert ahsd_config.__file__.startswith(sys.argv[1]), ahsd_config.__file__
from ahsd_config.cli.app import app
from ahsd_config.api import migrations as lib
from ahsd_config.input import loader

n, runs = int(sys.argv[2]), int(sys.argv[3])
work = tempfile.mkdtemp()
os.chdir(work)
open("pyproject.toml", "w").write('[tool.ahsd]\nmigrations = "chain"\n')
shutil.copytree(os.path.join(sys.argv[1], "migrations"), "chain")
chain = lib.load_chain()
oldest, head = chain.order[0], chain.head

def unknown(text, k):
    keys = "".join(f"  unknown_key_{i}: {i}\n" for i in range(k))
    return text.replace("priority_net:\n", "priority_net:\n" + keys, 1)

def listed(text, k):
    items = "".join(f"  - metric_{i}\n" for i in range(k))
    return text.replace("  - gradient_norm\n", "  - gradient_norm\n" + items, 1)

def run(args):
    sink = open(os.devnull, "w")
    code = 0
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            app(args, standalone_mode=False)
        except SystemExit as exc:
            code = exc.code or 0
        except Exception as exc:  # click's Exit
            code = getattr(exc, "exit_code", 1)
    return code

def files(k):
    old, new = lib.show_text(oldest), lib.show_text(head)
    texts = {"unknown": unknown(old, k), "unknown@head": unknown(new, k), "list": listed(old, k)}
    for name, text in texts.items():
        open(name + ".yaml", "w").write(text)
    return texts

def rows(k):
    return {
        "migrate --to head (unknown; refused)": (["migrate", "unknown.yaml", "--to", "head"], "unknown"),
        "migrate --to head (list; written)": (["migrate", "list.yaml", "--to", "head"], "list"),
        "current": (["current", "unknown.yaml"], "unknown"),
        "diff FILE head --format json": (["diff", "unknown.yaml", "head", "--format", "json"], "unknown"),
        "diff FILE FILE@head --format json": (["diff", "unknown.yaml", "unknown@head.yaml", "--format", "json"], "unknown"),
        "revision --from FILE@head": (["revision", "-m", "bench", "--from", "unknown@head.yaml", "--id", "vbench"], "unknown@head"),
    }

def timed(args, name, texts):
    for path in ("unknown.yaml", "unknown@head.yaml", "list.yaml"):  # every run starts from the same files
        open(path, "w").write(texts[path[:-5]])
    for leftover in ("chain/" + f for f in os.listdir("chain") if "vbench" in f):
        os.remove(leftover)
    for bak in [f for f in os.listdir(".") if f.endswith(".bak")]:
        os.remove(bak)
    started = time.process_time()
    code = run(args)
    return time.process_time() - started, code

def floor(text):
    """ruamel's one read and one write of the text: what any comment-keeping writer pays."""
    from ahsd_config.migrate.apply import dump
    started = time.process_time()
    dump(loader.load_text(text, "<floor>", roundtrip=True).data, text)
    return time.process_time() - started

small = files(20)
for args, name in rows(20).values():  # warm-up: imports, the chain's first read
    timed(args, name, small)
texts = files(n)
out = {}
for row, (args, name) in rows(n).items():
    results = [timed(args, name, texts) for _ in range(runs)]
    out[row] = [statistics.median(s for s, _ in results), len(texts[name].encode()) / 1e6, results[0][1]]
out["floor: ruamel read + write (list)"] = [statistics.median(floor(texts["list"]) for _ in range(runs)),
                                           len(texts["list"].encode()) / 1e6, 0]
print(json.dumps(out))
'''


def probe(root: str, n: int, runs: int) -> dict[str, list]:
    done = subprocess.run([sys.executable, "-c", PROBE, root, str(n), str(runs)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"probe failed in {root}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale(n: int, runs: int) -> None:
    small, large = probe(str(REPO), n, runs), probe(str(REPO), 4 * n, runs)
    print(f"{'command':<40} {'N':>7} {'MB':>6} {'s':>7} {'s/MB':>6}   {'4N':>7} {'MB':>6} {'s':>7} {'s/MB':>6}  4N/N")
    for row in small:
        (s1, mb1, c1), (s4, mb4, c4) = small[row], large[row]
        note = "" if c1 == c4 == 0 else f"  exit {c1}/{c4}"
        print(f"{row:<40} {n:>7} {mb1:6.2f} {s1:7.2f} {s1 / mb1:6.2f}   {4 * n:>7} {mb4:6.2f} {s4:7.2f} "
              f"{s4 / mb4:6.2f}  {s4 / s1:4.1f}{note}")


def against(ref: str, n: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        roots = {f"at {ref}": folder, "this tree": str(REPO)}
        times: dict[str, dict[str, list[float]]] = {name: {} for name in roots}
        sizes: dict[str, float] = {}
        for _ in range(runs):
            for name, root in roots.items():
                for row, (seconds, mb, _) in probe(root, n, 1).items():
                    times[name].setdefault(row, []).append(seconds)
                    sizes[row] = mb
    print(f"{n} keys; median of {runs} alternating runs; seconds (s/MB)")
    print(f"{'command':<40} {'at ' + ref:>16} {'this tree':>16}  {ref}/this")
    for row in times["this tree"]:
        old, new = (statistics.median(times[name][row]) for name in roots)
        mb = sizes[row]
        print(f"{row:<40} {old:7.2f} ({old / mb:5.2f}) {new:7.2f} ({new / mb:5.2f})  {old / new:5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", metavar="REF", help="time this tree against the project at git REF")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.n, args.runs)
    else:
        scale(args.n, args.runs)


if __name__ == "__main__":
    main()
