"""Copy the revision chain from `migrations/` (the one place revisions are written) into the
package's shipped copy `ahsd_config/chain/`, so an install without the repository still knows the
chain. `tests/test_chain_mirror.py` fails when the two differ; run this to fix it:

    .venv/bin/python tools/sync_chain.py          # copy new/changed files, drop stale ones
    .venv/bin/python tools/sync_chain.py --check  # exit 1 and list the differences
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "migrations"
SHIPPED = ROOT / "ahsd_config" / "chain"


def differences(source: Path = SOURCE, shipped: Path = SHIPPED) -> list[str]:
    """Names (`*.yaml`) that are missing from, stale in, or different in the shipped copy."""
    src = {p.name: p.read_bytes() for p in source.glob("*.yaml")}
    dst = {p.name: p.read_bytes() for p in shipped.glob("*.yaml")}
    return sorted(n for n in src.keys() | dst.keys() if src.get(n) != dst.get(n))


def sync(source: Path = SOURCE, shipped: Path = SHIPPED) -> list[str]:
    changed = differences(source, shipped)
    for name in changed:
        if (source / name).exists():
            shutil.copy2(source / name, shipped / name)
        else:
            (shipped / name).unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 when they differ")
    args = parser.parse_args(argv)
    changed = differences() if args.check else sync()
    for name in changed:
        print(f"{'differs' if args.check else 'synced'}: {name}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
