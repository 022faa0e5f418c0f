"""The `ahsd-train` command's first module, kept light: a Ctrl-C while torch imports (the first
~0.5 s of every command) is one line and exit 130, not a KeyboardInterrupt traceback from inside an
import. Once the CLI is loaded, its own handlers answer signals, each through
`signals.after_imports`."""

from __future__ import annotations

import signal
import sys

from ahsd_train.signals import after_imports

STARTING = "ahsd-train: interrupted while starting; nothing was done\n"


def main() -> None:
    signal.signal(signal.SIGINT, after_imports(signal.default_int_handler))
    try:
        from ahsd_train.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write(STARTING)
        raise SystemExit(130) from None
    try:
        run()
    finally:
        # The command is done: its files are written and its exit code is decided. A Ctrl-C in the
        # interpreter's teardown (torch's atexit handlers) printed a KeyboardInterrupt traceback
        # after "interrupted at step N", or turned exit 130 into death by SIGINT.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
