"""Named custom transforms: a pure function on plain config data plus its explicit inverse.

A revision names one with `op: transform, name: NAME, args: {...}`. Both directions take the
whole plain config (nested dicts) and return a new one; they never import the schema. Register
new ones with `@transform("name", inverse=...)`; `apply` checks the registry at load time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

from . import keys

Fn = Callable[[dict, dict], dict]


@dataclass(frozen=True)
class Transform:
    name: str
    forward: Fn
    inverse: Fn
    doc: str


REGISTRY: dict[str, Transform] = {}


def transform(name: str, *, inverse: Fn) -> Callable[[Fn], Fn]:
    def register(forward: Fn) -> Fn:
        REGISTRY[name] = Transform(name, forward, inverse, (forward.__doc__ or "").strip())
        return forward

    return register


def run(name: str, data: dict, args: dict, *, down: bool = False) -> dict:
    t = REGISTRY[name]
    return (t.inverse if down else t.forward)(copy.deepcopy(data), dict(args))


def _scale_back(data: dict, args: dict) -> dict:
    found = keys.resolve(data, args["key"])
    if found is not None and found[1] in found[0]:
        parent, key = found
        parent[key] = parent[key] / args["factor"]
    return data


@transform("scale", inverse=_scale_back)
def _scale(data: dict, args: dict) -> dict:
    """Multiply a numeric key by `factor` (args: key, factor); the inverse divides."""
    found = keys.resolve(data, args["key"])
    if found is not None and found[1] in found[0]:
        parent, key = found
        parent[key] = parent[key] * args["factor"]
    return data


def _join_list_back(data: dict, args: dict) -> dict:
    found = keys.resolve(data, args["key"])
    if found is not None and found[1] in found[0]:
        parent, key = found
        parent[key] = [x for x in str(parent[key]).split(args.get("sep", ","))]
    return data


@transform("join_list", inverse=_join_list_back)
def _join_list(data: dict, args: dict) -> dict:
    """Turn a list of strings into one separated string (args: key, sep); the inverse splits it."""
    found = keys.resolve(data, args["key"])
    if found is not None and found[1] in found[0]:
        parent, key = found
        parent[key] = args.get("sep", ",").join(str(x) for x in parent[key])
    return data
