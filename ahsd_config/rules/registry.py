"""The rule registry: one small unit per rule, each with a permanent `AHSDnnn` code.

How to add a rule
-----------------
1. Pick the group file (`hygiene.py` AHSD0xx, `optimisation.py` AHSD1xx, `architecture.py`
   AHSD2xx, `data.py` AHSD3xx, `migrations.py` AHSD4xx, `usage.py` AHSD5xx) and the next free
   number in its range. Codes are PERMANENT: never renumber, never reuse a retired code (add it to
   `RETIRED` instead of deleting a rule).
2. Write the check as a generator that receives a `RuleContext` and yields `Violation`s::

       @rule(
           code="AHSD1xx", severity="warning", title="short noun phrase",
           why="what goes wrong in training, in one or two sentences",
           fix="what to write instead",
           bad="priority_net:\\n  batch_size: 6\\n",
           good="priority_net:\\n  batch_size: 24\\n",
           needs=("priority_net",),
       )
       def check_something(ctx: RuleContext) -> Iterator[Violation]:
           pn = ctx.priority_net
           if pn.batch_size < 8:
               yield Violation(("priority_net", "batch_size"), f"priority_net.batch_size = ...")

   The engine attaches the code, the severity (a violation may lower or raise it with
   `severity=`) and the line/column of the key (or of its nearest ancestor present in the file).
3. `bad` and `good` are YAML fragments merged onto a valid base config by the tests
   (`tests/test_rules_examples.py`): `bad` must produce this code and no other new finding, `good`
   must produce no new finding at all. Fragments use two-space indentation and flow lists only;
   a leaf written `key: <delete>` removes that key from the base.
4. `needs` names the top-level sections the check reads as validated models
   (`ctx.section(name)`); the check is skipped when such a section fails the schema, so a check
   never sees a wrongly-typed value. `needs=()` checks read only the document (`ctx.doc`,
   `ctx.data`) and always run.
5. Messages follow STYLE.md: the dotted key, the value, the limit and the fix.

Group modules are discovered automatically (every module of the `ahsd_config.rules` package), so
a new group file needs no registration elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Union

from ahsd_config.findings import SEVERITIES, Severity

if TYPE_CHECKING:  # the loader and schema are imported lazily: `explain` must stay cheap
    from ahsd_config.input.loader import YamlDocument
    from ahsd_config.schema import PriorityNetConfig, TrainingConfig

KeyLike = Union[str, tuple]
Check = Callable[["RuleContext"], Iterable["Violation"]]

CODE_PATTERN = re.compile(r"^AHSD\d{3}$")

RETIRED: frozenset[str] = frozenset()
"""Codes that once existed and must never be given to a new rule."""


@dataclass(frozen=True)
class Violation:
    """What a check reports: where and what. The engine adds code, default severity and position.

    `severity` overrides the rule's default for graded rules (e.g. batch size: error below 8,
    warning below 16). `at` overrides the position (line, column) when the key's first position is
    not the offending spot (a duplicate key's second occurrence).
    """

    key: KeyLike
    message: str
    hint: str | None = None
    severity: Severity | None = None
    at: tuple[int, int] | None = None

    def key_path(self) -> tuple:
        if isinstance(self.key, str):
            from ahsd_config.input.loader import parse_key

            return parse_key(self.key)
        return tuple(self.key)


@dataclass(frozen=True)
class Rule:
    """A rule's permanent identity, its documentation, its examples and its check."""

    code: str
    severity: Severity
    title: str
    why: str
    fix: str
    bad: str
    good: str
    check: Check | None = None  # None: emitted elsewhere (schema findings, loader duplicates)
    needs: tuple[str, ...] = ()
    group: str = ""

    @property
    def name(self) -> str:
        return self.check.__name__ if self.check is not None else self.title


_REGISTRY: dict[str, Rule] = {}


def register(new: Rule) -> Rule:
    """Add a rule; a second rule with the same code, or a retired code, is a programming error."""
    if not CODE_PATTERN.match(new.code):
        raise ValueError(f"rule code {new.code!r} must look like AHSD123")
    if new.code in RETIRED:
        raise ValueError(f"rule code {new.code} is retired and must never be reused")
    if new.code in _REGISTRY and _REGISTRY[new.code] != new:
        raise ValueError(f"rule code {new.code} is already taken by {_REGISTRY[new.code].name}")
    if new.severity not in SEVERITIES:
        raise ValueError(f"{new.code}: severity must be one of {SEVERITIES}")
    _REGISTRY[new.code] = new
    return new


def rule(
    *,
    code: str,
    severity: Severity,
    title: str,
    why: str,
    fix: str,
    bad: str,
    good: str,
    needs: tuple[str, ...] = (),
) -> Callable[[Check], Check]:
    """Decorator registering `check` as the rule `code` (see the module docstring)."""

    def decorate(check: Check) -> Check:
        group = check.__module__.rsplit(".", 1)[-1]
        register(Rule(code, severity, title, why, fix, bad, good, check, tuple(needs), group))
        return check

    return decorate


def describe(
    *, code: str, severity: Severity, title: str, why: str, fix: str, bad: str, good: str,
    group: str,
) -> Rule:
    """Register a rule whose findings are produced outside the rule engine (schema, loader)."""
    return register(Rule(code, severity, title, why, fix, bad, good, None, (), group))


def all_rules() -> list[Rule]:
    """Every registered rule, by code (loads the built-in groups on first use)."""
    _load_groups()
    return [_REGISTRY[code] for code in sorted(_REGISTRY)]


def get_rule(code: str) -> Rule:
    """The rule with this code; KeyError when there is none."""
    _load_groups()
    return _REGISTRY[code.upper()]


_loaded = False


def _load_groups() -> None:
    """Import every module of the rules package once: importing a group registers its rules."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib
    import pkgutil

    import ahsd_config.rules as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "registry" and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


@dataclass
class RuleContext:
    """What a check may read: the document (positions, scalars as written), the plain data, and
    the validated models (the whole config when the schema accepted it, else each section that
    validates on its own)."""

    doc: "YamlDocument"
    data: dict[str, Any]
    config: "TrainingConfig | None" = None
    _sections: dict[str, Any] = field(default_factory=dict, repr=False)

    def section(self, name: str) -> Any:
        """The validated model of a top-level section, or None when it does not validate."""
        if self.config is not None:
            return getattr(self.config, name, None)
        if name not in self._sections:
            self._sections[name] = _validate_section(name, self.data)
        return self._sections[name]

    @property
    def priority_net(self) -> "PriorityNetConfig":
        return self.section("priority_net")

    def has(self, dotted: str) -> bool:
        """Whether the key is written in the file (not merely defaulted by the schema)."""
        from ahsd_config.input.loader import parse_key

        return self.doc.has_key(parse_key(dotted))


def _validate_section(name: str, data: dict[str, Any]) -> Any:
    """Validate one top-level section alone, so rules still run when another section is broken."""
    from pydantic import BaseModel, ValidationError

    from ahsd_config.schema import TrainingConfig

    info = TrainingConfig.model_fields.get(name)
    if info is None or not isinstance(data, dict):
        return None
    model = info.annotation
    candidates = getattr(model, "__args__", (model,))  # `Model | None`
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            value = data.get(name)
            if value is None and not info.is_required():
                value = info.get_default(call_default_factory=True)
                return value
            try:
                return candidate.model_validate(value)
            except ValidationError:
                return None
    return None


def run_rules(ctx: RuleContext) -> Iterator[tuple[Rule, Violation]]:
    """Every violation of every rule whose needed sections validated."""
    for current in all_rules():
        if current.check is None:
            continue
        if any(ctx.section(name) is None for name in current.needs):
            continue
        for violation in current.check(ctx):
            yield current, violation
