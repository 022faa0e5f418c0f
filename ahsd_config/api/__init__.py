"""Layer 5, composition: the library API (the role of Alembic's `command.py`).

`config` (`load_config`: the one road from YAML to a frozen `TrainingConfig`), `validate`
(schema + rules -> findings), `migrations` (migrate, diff, history, log, revision, squash, merge),
`explain`. `from ahsd_config.api import load_config` keeps working; the names are resolved on
first use so that importing a sibling (`ahsd_config.api.validate`) costs nothing extra.
"""

from __future__ import annotations

from typing import Any

_CONFIG_NAMES = frozenset({"LoadedConfig", "load_config", "apply_overrides"})


def __getattr__(name: str) -> Any:
    if name in _CONFIG_NAMES:
        from ahsd_config.api import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
