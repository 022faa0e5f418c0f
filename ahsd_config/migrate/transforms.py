"""Named custom transforms: a pure function on plain config data plus its explicit inverse.

A revision names one with `op: transform, name: NAME, args: {...}`. Both directions take the
whole plain config (nested dicts) and return a new one; they never import the schema. Register
new ones with `@transform("name", inverse=..., check_args=...)`; `parse_change` checks the name and
the args against the registry when a revision file loads, and `run` turns a value of the wrong
type into a RevisionApplyError (one line, exit 2).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

from . import keys

Fn = Callable[[dict, dict], dict]


Check = Callable[[dict], "str | None"]


@dataclass(frozen=True)
class Transform:
    name: str
    forward: Fn
    inverse: Fn
    doc: str
    check_args: Check  # why `args` cannot work (None when they can); run when a revision loads


REGISTRY: dict[str, Transform] = {}


def transform(name: str, *, inverse: Fn, check_args: Check) -> Callable[[Fn], Fn]:
    def register(forward: Fn) -> Fn:
        REGISTRY[name] = Transform(name, forward, inverse, (forward.__doc__ or "").strip(), check_args)
        return forward

    return register


def problem(name: str, args: dict) -> str | None:
    """Why a revision's `transform NAME args` cannot run (checked when the revision file loads)."""
    if name not in REGISTRY:
        return f"unknown transform {name!r}; registered: {', '.join(sorted(REGISTRY))}"
    return REGISTRY[name].check_args(args)


def run(name: str, data: dict, args: dict, *, down: bool = False) -> dict:
    from .errors import RevisionApplyError

    if problem(name, args) is not None:
        raise RevisionApplyError(f"transform {name}: {problem(name, args)}")
    t = REGISTRY[name]
    try:
        return (t.inverse if down else t.forward)(copy.deepcopy(data), dict(args))
    except (TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise RevisionApplyError(f"transform {name} on {args.get('key')}: {exc}") from None


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x and abs(x) != float("inf")


def _scale_args(args: dict) -> str | None:
    if set(args) != {"key", "factor"} or not isinstance(args["key"], str) or not args["key"]:
        return "scale takes args {key: dotted key, factor: number}"
    if not _is_number(args["factor"]) or args["factor"] == 0:
        return f"scale factor must be a finite non-zero number (its inverse divides by it), got {args['factor']!r}"
    return None


def _join_list_args(args: dict) -> str | None:
    if not set(args) <= {"key", "sep"} or not isinstance(args.get("key"), str) or not args["key"]:
        return "join_list takes args {key: dotted key, sep: separator (default ',')}"
    if not isinstance(args.get("sep", ","), str) or not args.get("sep", ","):
        return f"join_list sep must be a non-empty string, got {args.get('sep')!r}"
    return None


def _number(value, key: str):
    if not _is_number(value):
        raise TypeError(f"{key} is {value!r:.60}, not a number")
    return value


def _kind(value, key: str, kind: type, name: str):
    if not isinstance(value, kind):
        raise TypeError(f"{key} is {value!r:.60}, not {name}")
    return value


def _map_value(data: dict, key: str, fn: Callable) -> dict:
    """`data` with the value at dotted `key` replaced by `fn(value)`; unchanged when the key is absent."""
    found = keys.resolve(data, key)
    if found is not None and found[1] in found[0]:
        parent, name = found
        parent[name] = fn(parent[name])
    return data


def _scale_back(data: dict, args: dict) -> dict:
    return _map_value(data, args["key"], lambda v: _number(v, args["key"]) / args["factor"])


@transform("scale", inverse=_scale_back, check_args=_scale_args)
def _scale(data: dict, args: dict) -> dict:
    """Multiply a numeric key by `factor` (args: key, factor); the inverse divides."""
    return _map_value(data, args["key"], lambda v: _number(v, args["key"]) * args["factor"])


def _join_list_back(data: dict, args: dict) -> dict:
    sep = args.get("sep", ",")
    return _map_value(data, args["key"],
                      lambda v: [x for x in _kind(v, args["key"], str, "a joined string").split(sep)])


@transform("join_list", inverse=_join_list_back, check_args=_join_list_args)
def _join_list(data: dict, args: dict) -> dict:
    """Turn a list of strings into one separated string (args: key, sep); the inverse splits it."""
    sep = args.get("sep", ",")
    return _map_value(data, args["key"], lambda v: sep.join(str(x) for x in _kind(v, args["key"], list, "a list")))
