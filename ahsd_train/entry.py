"""The `ahsd-train` command's first module, kept light: a Ctrl-C while torch imports (the first
~0.5 s of every command) is one line and exit 130, not a KeyboardInterrupt traceback from inside an
import. Once the CLI is loaded, its own handlers answer signals, each through `after_imports`."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Callable, Optional

STARTING = "ahsd-train: interrupted while starting; nothing was done\n"
RETRY_S = 0.05
Handler = Callable[[int, Optional[FrameType]], object]


def importing(frame: Optional[FrameType]) -> bool:
    """Is an import running in this stack? (importlib's frames are on it, also when C code imports.)"""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib."):
            return True
        frame = frame.f_back
    return False


def after_imports(handler: Handler) -> Handler:
    """`handler`, run only outside imports: a signal that lands inside one is sent again shortly.

    A KeyboardInterrupt raised inside an import can be swallowed by C code — torch's NumPy set-up
    catches it — and leaves a half-imported module behind: SIGTERM at 1.4 s into `data generate`
    gave `AttributeError: module 'numpy' has no attribute 'multiply'` (a traceback, exit 1) where
    the interrupt was due."""
    def deferred(signum: int, frame: Optional[FrameType]) -> object:
        if importing(frame):
            timer = threading.Timer(RETRY_S, os.kill, (os.getpid(), signum))
            timer.daemon = True
            timer.start()
            return None
        return handler(signum, frame)

    deferred.wrapped = handler  # type: ignore[attr-defined]
    return deferred


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
