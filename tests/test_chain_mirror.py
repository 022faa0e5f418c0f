"""One copy of the revision chain: `ahsd_config/chain` is a link to `migrations/`, and a built
wheel ships every revision (so an install without the repository still knows the chain)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_chain_is_the_migrations_folder():
    assert (ROOT / "ahsd_config" / "chain").resolve() == (ROOT / "migrations").resolve()


def test_a_built_wheel_ships_every_revision(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip()[-200:]}")
    [wheel] = tmp_path.glob("ahsd-*.whl")
    shipped = {Path(n).name for n in zipfile.ZipFile(wheel).namelist() if n.startswith("ahsd_config/chain/")}
    assert shipped == {p.name for p in (ROOT / "migrations").glob("*.yaml")}
