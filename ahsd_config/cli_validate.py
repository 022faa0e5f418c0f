"""`ahsd-config` commands of the validate room (see cli.py)."""

from ahsd_config.cli import app, reports_errors  # noqa: F401
