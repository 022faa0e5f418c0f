"""Checkpoints: atomic writes, exact resume, `weights_only=True` loading, fallback on corruption.

A checkpoint is a plain dict of tensors and primitive containers, so `torch.load(...,
weights_only=True)` can read it (no pickle of arbitrary objects):

    format            int, CHECKPOINT_FORMAT
    model             state_dict (unwrapped from DDP)
    optimizer         state_dict
    warmup, plateau   LinearLR / ReduceLROnPlateau state_dicts
    rng               {"torch": uint8 tensor, "cuda": [uint8 tensors], "python": int64 tensor,
                       "numpy": {"keys": uint32 tensor, "pos": int, ...}}
    progress          {"epoch", "batch", "step", "best_val_loss", "bad_epochs", "finished"}
    health            HealthState.to_state()
    config_json       the resolved TrainingConfig as a JSON string (compared on resume)
    run_options_json  run options that shape the data/length (quick, n_scenarios, ...)

Files in `<run>/checkpoints/`: `last.pt` (newest), `last.prev.pt` (the one before; the fallback
when `last.pt` is corrupt), `best.pt` (best validation loss), `epoch_NNNN.pt` (when
`output.save_intermediate`).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ahsd_config.atomic import atomic_write, atomic_write_bytes, fsync_dir
from ahsd_train.trainer_errors import CheckpointError, ResumeRefused

CHECKPOINT_FORMAT = 1
LAST, PREV, BEST = "last.pt", "last.prev.pt", "best.pt"

atomic_write_text = atomic_write  # run files (runlog, doctor) share the project's one writer


# --- RNG states as tensors (weights_only-safe) ---------------------------------------------------


def capture_rng() -> dict[str, Any]:
    version, internal, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": torch.tensor(list(internal), dtype=torch.int64),
        "python_version": int(version),
        "python_gauss": None if gauss is None else float(gauss),
        "numpy": {"keys": torch.from_numpy(np_keys.astype(np.int64)), "pos": int(np_pos),
                  "has_gauss": int(np_has_gauss), "gauss": float(np_gauss)},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((state["python_version"], tuple(int(x) for x in state["python"].tolist()),
                     state["python_gauss"]))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --- save / load ---------------------------------------------------------------------------------


def save(folder: Path, payload: dict[str, Any], *, best: bool = False,
         intermediate_epoch: int | None = None) -> Path:
    """Write `payload` as the new `last.pt` (the old one becomes `last.prev.pt`); optionally also
    as `best.pt` and `epoch_NNNN.pt`. Every file appears whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"format": CHECKPOINT_FORMAT, **payload}
    tmp = folder / f".{LAST}.incoming"
    atomic_write_bytes(tmp, lambda f: torch.save(payload, f))
    last = folder / LAST
    if last.exists():
        os.replace(last, folder / PREV)
    os.replace(tmp, last)
    fsync_dir(folder)
    if best:
        atomic_write_bytes(folder / BEST, lambda f: torch.save(payload, f))
    if intermediate_epoch is not None:
        atomic_write_bytes(folder / f"epoch_{intermediate_epoch:04d}.pt",
                           lambda f: torch.save(payload, f))
    return last


def load_file(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load one checkpoint with `weights_only=True`; CheckpointError when unreadable or foreign."""
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as exc:  # torch raises many types for a truncated/corrupt zip
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not an ahsd-train checkpoint (format {CHECKPOINT_FORMAT})")
    return payload


def load_latest(folder: Path, warn: Callable[[str], None],
                map_location: str | torch.device = "cpu") -> tuple[dict[str, Any], bool]:
    """`last.pt`, or `last.prev.pt` with a warning when `last.pt` is missing or corrupt.

    Returns (payload, fell_back)."""
    try:
        return load_file(folder / LAST, map_location), False
    except CheckpointError as first:
        if not (folder / PREV).exists():
            raise CheckpointError(f"{first.message}; no previous checkpoint to fall back to") from None
        warn(f"{first.message}; falling back to {folder / PREV}")
        return load_file(folder / PREV, map_location), True


# --- config comparison on resume -----------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {dotted key: leaf}; lists are leaves."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value}


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """[(dotted key, old, new)] for every key whose value differs (missing = None), sorted."""
    a, b = flatten(old), flatten(new)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def check_resume_config(path: str, payload: dict[str, Any], config_json: str,
                        run_options_json: str, force: bool) -> list[tuple[str, Any, Any]]:
    """Refuse (ResumeRefused, per-key diff) a resume with another config, unless `force`."""
    diff = config_diff(json.loads(payload["config_json"]), json.loads(config_json))
    diff += config_diff({"run": json.loads(payload["run_options_json"])},
                        {"run": json.loads(run_options_json)})
    if diff and not force:
        raise ResumeRefused(path, diff)
    return diff
