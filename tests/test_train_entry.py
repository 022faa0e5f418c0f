"""A Ctrl-C in the first half second of `ahsd-train` (torch still importing) printed a
KeyboardInterrupt traceback; the command's entry point is a light module that answers it."""

from __future__ import annotations

import builtins
import sys
import tomllib
from pathlib import Path

import pytest

from ahsd_train import entry

REPO = Path(__file__).resolve().parents[1]


def test_ctrl_c_while_the_cli_imports_is_one_line_exit_130(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "ahsd_train.cli", raising=False)
    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "ahsd_train.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "ahsd-train: interrupted while starting; nothing was done\n"


def test_the_installed_command_and_python_m_start_at_the_light_entry_point():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["ahsd-train"] == "ahsd_train.entry:main"
    assert "from ahsd_train.entry import main" in (REPO / "ahsd_train" / "__main__.py").read_text()
    source = (REPO / "ahsd_train" / "entry.py").read_text()
    assert "import torch" not in source and "from ahsd_config" not in source  # nothing heavy before the try


SWALLOWING_IMPORT = {
    # a module whose import is interrupted once: the signal arrives while it runs
    "slow.py": "import builtins, os, signal, sys, time\n"
               "if not getattr(builtins, 'sent', False):\n"
               "    builtins.sent = True\n"
               "    os.kill(os.getpid(), int(sys.argv[1]))\n"
               "    time.sleep(0.5)\n"
               "DONE = True\n",
    # and an importer that swallows whatever its import raised, as torch's NumPy set-up does
    "swallow.py": "try:\n    import slow\nexcept BaseException:\n    OK = False\nelse:\n    OK = True\n",
}
MAIN = """
import signal, sys, time
from ahsd_train.signals import after_imports
if sys.argv[2] == "wrapped":
    signal.signal(int(sys.argv[1]), after_imports(signal.default_int_handler))
else:
    signal.signal(int(sys.argv[1]), signal.default_int_handler)
import swallow
print("imported whole" if swallow.OK else "import interrupted and swallowed", flush=True)
try:
    time.sleep(1.5)
except KeyboardInterrupt:
    print("interrupted after the import")
"""


@pytest.mark.parametrize("signum", [2, 15], ids=["SIGINT", "SIGTERM"])
def test_a_signal_inside_an_import_is_acted_on_after_it_never_swallowed_inside(tmp_path, signum):
    """Fault injection: the signal lands inside an import whose importer swallows exceptions. Through
    `after_imports` the import completes and the interrupt comes right after; with the plain handler
    (the control) the KeyboardInterrupt is raised inside the import and lost."""
    import subprocess

    for name, text in SWALLOWING_IMPORT.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.py").write_text(MAIN)

    def run(mode: str) -> list[str]:
        done = subprocess.run([sys.executable, "main.py", str(signum), mode], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60, env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"})
        return done.stdout.splitlines()

    assert run("wrapped") == ["imported whole", "interrupted after the import"]
    assert run("plain") == ["import interrupted and swallowed"]


TEARDOWN = """
import atexit, os, signal, sys, time, types
def command():
    def late_signal():  # as a Ctrl-C that lands in torch's atexit handler
        os.kill(os.getpid(), int(sys.argv[1]))
        time.sleep(0.3)
    atexit.register(late_signal)
    raise SystemExit(130)
sys.modules["ahsd_train.cli"] = types.SimpleNamespace(main=command)
from ahsd_train.entry import main
main()
"""


@pytest.mark.parametrize("signum", [2, 15], ids=["SIGINT", "SIGTERM"])
def test_a_signal_in_the_interpreters_teardown_changes_nothing(tmp_path, signum):
    """After "interrupted at step N" (exit 130), a further Ctrl-C in torch's atexit handler printed a
    KeyboardInterrupt traceback, or killed the process by SIGINT (exit -2)."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", TEARDOWN, str(signum)], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert (done.returncode, done.stderr) == (130, "")
