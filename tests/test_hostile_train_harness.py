"""The hostile pass's harness (tests/hostile/train) cannot rot silently: two fast probes against
the real `ahsd-train` hold, and the same probes against a fake `ahsd-train` that breaks the promises
(a traceback, code run from a planted payload, a run folder made, more than one error line) raise
exactly those flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HARNESS = REPO / "tests" / "hostile" / "train"
PROBES = "^(config-fifo|config-pyobj)$"

FAKE = """#!{python}
import os, sys
from pathlib import Path
out = sys.argv[sys.argv.index("--out") + 1]
Path(out).mkdir(parents=True)
(Path.cwd().parents[1] / "PWNED").touch()
sys.stderr.write("Traceback (most recent call last):\\nerror: one\\nerror: two\\n")
sys.exit(2)
"""


def run_harness(exe: Path, work: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HARNESS), "--fast", "--match", PROBES, "--exe", str(exe),
                           "--work", str(work)], capture_output=True, text=True, timeout=120, cwd=REPO)


def test_the_harness_holds_on_ahsd_train_and_flags_a_fake_that_breaks_every_promise(tmp_path):
    real = run_harness(Path(sys.executable).parent / "ahsd-train", tmp_path / "real")
    assert real.returncode == 0, real.stdout + real.stderr
    assert "| all | 2 | 2 | 0 |" in real.stdout

    fake = tmp_path / "bin" / "ahsd-train"
    fake.parent.mkdir()
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(0o755)
    broken = run_harness(fake, tmp_path / "fake")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "| all | 2 | 0 | 2 |" in broken.stdout
    for name in ("config-fifo", "config-pyobj"):
        assert f"BROKE config '{name}' rc=2 TB,CODE,MSG,CREATED:" in broken.stdout, broken.stdout
