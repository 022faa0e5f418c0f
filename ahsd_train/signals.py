"""Signal handlers that never act inside an import (`after_imports`), for the entry point and the
CLI's own handlers. Light: the entry point imports it before anything heavy."""

from __future__ import annotations

import os
import threading
from types import FrameType
from typing import Callable, Optional

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
