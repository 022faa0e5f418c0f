"""One gate run's shared state: what was read once (the chain at head, the added revisions) and
the result every check writes its findings into. The checks in `gate/checks/` are functions of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ahsd_config.gate import chain
from ahsd_config.gate.git import ChangedPath, Git, WorkTree
from ahsd_config.gate.result import GateResult
from ahsd_config.gate.settings import GateSettings
from ahsd_config.input.loader import YamlDocument


@dataclass
class GateRun:
    git: Git | WorkTree
    settings: GateSettings
    result: GateResult
    mb: str  # the merge base (base side of every comparison)
    head: str
    configs: list[ChangedPath]
    revision_paths: list[ChangedPath]
    chain: chain.Chain = field(default_factory=lambda: chain.Chain({}))
    added: list[str] = field(default_factory=list)  # revisions the pull request added, chain order
    head_revision: str | None = None  # the single head, once `heads` found one
    replayed: set[str] = field(default_factory=set)  # added revisions already walked up and down

    @property
    def add(self):
        return self.result.add

    @property
    def note(self):
        return self.result.note


def stamp_of(doc: YamlDocument) -> str | None:
    data = doc.data
    stamp = data.get("revision") if isinstance(data, dict) else None
    return str(stamp) if stamp is not None else None


def without_stamp(data: Any) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "revision"} if isinstance(data, dict) else {}
