"""`ahsd-config validate` loads only what the file needs (issue 11, speed): for a config without a
`revision:` stamp, no migration engine, no gate, no git or subprocess, no lock, no difflib, and no
ruamel (the C road reads it), nor the CLI toolkit or torch. A behaviour test: which modules a real
`validate` process ends with, never how long it took."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Prefixes of modules that an unstamped, well-formed config must not load.
HEAVY = ("ahsd_config.migrate", "ahsd_config.api.migrations", "ahsd_config.gate", "ahsd_config.cli.migrate",
         "ahsd_config.cli.gate", "ahsd_config.render.migrate", "ahsd_config.render.gate", "filelock",
         "subprocess", "difflib", "ruamel", "typer", "click", "rich", "torch")

PROBE = """
import json, sys
sys.argv = ["ahsd-config", "validate", sys.argv[1]]
from ahsd_config.cli.app import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""


def modules_after_validate(path: Path) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["exit"], result["modules"]


def test_validating_an_unstamped_config_loads_no_heavy_module(tmp_path):
    shipped = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
    unstamped = "".join(line for line in shipped.splitlines(keepends=True) if not line.startswith("revision:"))
    path = tmp_path / "unstamped.yaml"
    path.write_text(unstamped, encoding="utf-8")
    code, modules = modules_after_validate(path)
    assert code == 0  # AHSD001 (no stamp) is a warning
    assert "ahsd_config.api.validate" in modules and "yaml._yaml" in modules  # it did validate, on the C road
    loaded = [m for m in modules if m.startswith(HEAVY)]
    assert loaded == []


def test_an_unknown_key_loads_difflib_for_its_suggestion(tmp_path):
    """The other side: what a file needs is loaded (the did-you-mean of an unknown key)."""
    path = tmp_path / "typo.yaml"
    path.write_text("priority_net:\n  batch_sise: 8\n", encoding="utf-8")
    code, modules = modules_after_validate(path)
    assert code == 1
    assert "difflib" in modules
