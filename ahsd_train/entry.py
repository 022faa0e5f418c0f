"""The `ahsd-train` command's first module, kept light: a Ctrl-C while torch imports (the first
~0.5 s of every command) is one line and exit 130, not a KeyboardInterrupt traceback from inside an
import. Once the CLI is loaded, its own handlers answer signals."""

from __future__ import annotations

import sys

STARTING = "ahsd-train: interrupted while starting; nothing was done\n"


def main() -> None:
    try:
        from ahsd_train.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write(STARTING)
        raise SystemExit(130) from None
    run()
