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
