"""Generate `schemas/enhanced_training.schema.json` from `TrainingConfig` (JSON Schema 2020-12).

Editors use it through the yaml-language-server modeline at the top of the config for completion,
hover docs and red squiggles; a test regenerates it and fails when the committed copy is stale.
Writing is atomic (temp file, fsync, rename), like every file write in the project.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ahsd_config.input.files import atomic_write
from ahsd_config.schema import TrainingConfig

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_TITLE = "ahsd PriorityNet training configuration (enhanced_training.yaml)"
DEFAULT_SCHEMA_PATH = Path("schemas") / "enhanced_training.schema.json"


def generate_json_schema() -> dict[str, Any]:
    """The JSON Schema of `TrainingConfig`, with the dialect and title first."""
    body = TrainingConfig.model_json_schema(mode="validation")
    body.pop("title", None)
    return {"$schema": SCHEMA_DIALECT, "title": SCHEMA_TITLE, **body}


def render_json_schema() -> str:
    """The schema as the committed file's exact text: 2-space indent, trailing newline."""
    return json.dumps(generate_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_json_schema(path: str | os.PathLike[str] = DEFAULT_SCHEMA_PATH) -> Path:
    """Write the schema to `path` atomically; return the path written."""
    target = Path(path)
    atomic_write(target, render_json_schema())
    return target


if __name__ == "__main__":  # `python -m ahsd_config.schema.schemagen` regenerates the committed file
    print(write_json_schema())
