"""Checkpoints: atomic writes, exact resume, `weights_only=True` loading, fallback on corruption.

A checkpoint is a plain dict of tensors and primitive containers, so `torch.load(...,
weights_only=True)` can read it (no pickle of arbitrary objects):

    format            int, CHECKPOINT_FORMAT
    model             state_dict (unwrapped from DDP)
    optimizer         state_dict
    warmup, plateau   LinearLR / ReduceLROnPlateau state_dicts
    rng               {"torch": uint8 tensor, "cuda": [uint8 tensors], "python": int64 tensor,
                       "numpy": {"keys": uint32 tensor, "pos": int, ...}}
    progress          LoopState.to_state(): {"epoch", "batch", "step", "best_val_loss", "bad_epochs",
                      "early_stopped", "sums": {"loss", "grad", "n", "clipped", "scen"}} (state.py)
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

from ahsd_config.input.files import atomic_write_bytes, fsync_dir, stage_file, sweep_stale_temps
from ahsd_train.errors import CheckpointError, ResumeRefused

CHECKPOINT_FORMAT = 1
LAST, PREV, BEST = "last.pt", "last.prev.pt", "best.pt"



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


class _Recording:
    """A file's `write`, remembering the first exception raised in it (see `torch_writer`)."""

    def __init__(self, handle) -> None:
        self.handle, self.error = handle, None

    def write(self, data) -> int:
        try:
            return self.handle.write(data)
        except BaseException as exc:  # an OSError, or the KeyboardInterrupt of a second Ctrl-C
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        self.handle.flush()


def torch_writer(payload: dict[str, Any]):
    """`torch.save(payload, handle)` for the atomic writers. torch's zip writer turns whatever the
    file's `write` raised into `RuntimeError: [enforce fail at inline_container.cc] ...`, a
    traceback at the CLI: a full disk (ENOSPC, EFBIG), and the KeyboardInterrupt of a second
    Ctrl-C that lands in the write (it must stop the run at once: exit 130). The original
    exception is raised instead."""
    def write(handle) -> None:
        sink = _Recording(handle)
        try:
            torch.save(payload, sink)
        except RuntimeError:
            if sink.error is not None:
                raise sink.error from None
            raise
    return write


def save(folder: Path, payload: dict[str, Any], *, best: bool = False,
         intermediate_epoch: int | None = None) -> Path:
    """Write `payload` as the new `last.pt` (the old one becomes `last.prev.pt`); optionally also
    as `best.pt` and `epoch_NNNN.pt`. Every file appears whole or not at all, and `last.pt`
    exists at every instant once it has existed (a signal or a kill mid-save cannot lose it):
    the new file is staged and fsynced, the old `last.pt` is hard-linked to `last.prev.pt`
    (atomically replaced), then the staged file is renamed over `last.pt`."""
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(folder)  # what a killed save left
    payload = {"format": CHECKPOINT_FORMAT, **payload}
    staged = stage_file(folder, LAST, torch_writer(payload))
    last = folder / LAST
    try:
        if last.is_file():
            keep_copy(last, folder / PREV)
        os.replace(staged, last)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    if best:
        atomic_write_bytes(folder / BEST, torch_writer(payload))
    if intermediate_epoch is not None:
        atomic_write_bytes(folder / f"epoch_{intermediate_epoch:04d}.pt", torch_writer(payload))
    return last


def keep_copy(src: Path, dst: Path) -> None:
    """`dst` becomes `src`'s content atomically while `src` stays (a hard link; a copy where links
    are not supported)."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        atomic_write_bytes(dst, src.read_bytes())
        return
    try:
        os.replace(tmp, dst)
    finally:
        # rename() between two links of one file does nothing and leaves `tmp` (POSIX): drop it
        tmp.unlink(missing_ok=True)


def has_checkpoint(folder: Path) -> bool:
    return (folder / LAST).is_file() or (folder / PREV).is_file()


def newest_step(folder: Path) -> int | None:
    """The step of the checkpoint a resume would load (None when there is none that reads)."""
    try:
        payload, _ = load_latest(folder, lambda message: None)
    except CheckpointError:
        return None
    return int(payload["progress"]["step"])


# What a checkpoint must hold, and the type of each entry (a file can be a valid zip of tensors
# and still not be one of ours: `{'format': 1}`, `config_json: 5`).
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "model": dict, "optimizer": dict, "warmup": dict, "plateau": dict, "rng": dict,
    "progress": dict, "health": dict, "config_json": str, "run_options_json": str,
}
_PROGRESS = ("epoch", "batch", "step")


def payload_problem(payload: Any) -> str | None:
    """Why `payload` is not a complete checkpoint of this format (None when it is)."""
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        return f"not an ahsd-train checkpoint (format {CHECKPOINT_FORMAT})"
    missing = [k for k in _REQUIRED if k not in payload]
    if missing:
        return f"incomplete checkpoint: {', '.join(missing)} missing"
    wrong = [f"{k} is {type(payload[k]).__name__}, not {_REQUIRED[k].__name__}"
             for k in _REQUIRED if not isinstance(payload[k], _REQUIRED[k])]
    bad_progress = [k for k in _PROGRESS if not _count(payload["progress"].get(k))]
    if bad_progress:
        wrong.append(f"progress.{', progress.'.join(bad_progress)} not an integer >= 0")
    for k in ("config_json", "run_options_json"):
        if isinstance(payload[k], str):
            try:
                if not isinstance(json.loads(payload[k]), dict):
                    wrong.append(f"{k} is not a JSON object")
            except (ValueError, RecursionError):
                wrong.append(f"{k} is not JSON")
    return f"malformed checkpoint: {'; '.join(wrong)}" if wrong else None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def load_file(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load one checkpoint with `weights_only=True`; CheckpointError when unreadable, foreign,
    incomplete or wrong-typed."""
    if path.exists() and not path.is_file():
        raise CheckpointError(f"{path}: not a checkpoint file (a directory or a special file)")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as exc:  # torch raises many types for a truncated/corrupt zip
        raise CheckpointError(f"{path}: {_load_failure(exc)}") from None
    problem = payload_problem(payload)
    if problem is not None:
        raise CheckpointError(f"{path}: {problem}")
    return payload


def _load_failure(exc: Exception) -> str:
    """One line for a checkpoint torch would not load. A pickle that names Python code (what
    weights_only=True refuses) is said to be refused, never with torch's hint to load it unsafely."""
    import re

    text = str(exc)
    if "Weights only load failed" in text:
        glob = re.search(r"(?:unsupported |Unsupported global: )(GLOBAL [\w.]+)", text)
        return ("refused: it holds Python objects, not only tensors and plain data"
                + (f" ({glob.group(1)})" if glob else "") + "; ahsd-train never writes such a file, and "
                "does not load it")
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return f"unreadable checkpoint ({type(exc).__name__}: {first[:200]})"


def load_latest(folder: Path, warn: Callable[[str], None], map_location: str | torch.device = "cpu",
                apply: Callable[[dict[str, Any]], None] | None = None) -> tuple[dict[str, Any], bool]:
    """`last.pt`, or `last.prev.pt` with a warning naming why when `last.pt` is missing or bad.

    `apply(payload)` puts a checkpoint into the run (model, optimizer, schedulers, RNG): one whose
    parts do not load there (another model's shapes, an RNG state of the wrong size, a hand-edited
    optimizer state) is as bad as a corrupt file and falls back the same way. An AhsdTrainError
    from `apply` (a resume refused for a changed config) is not a fault of the file: it propagates.
    Returns (payload, fell_back)."""
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{folder}: not a folder of checkpoints")
    sweep_stale_temps(folder)
    try:
        return _load_applied(folder / LAST, map_location, apply), False
    except CheckpointError as first:
        if not (folder / PREV).is_file():
            raise CheckpointError(f"{first.message}; no previous checkpoint to fall back to") from None
        warn(f"{first.message}; falling back to {folder / PREV}")
        try:
            return _load_applied(folder / PREV, map_location, apply), True
        except CheckpointError as second:
            raise CheckpointError(f"{first.message}; and the previous one: {second.message}") from None


def _load_applied(path: Path, map_location: str | torch.device,
                  apply: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    payload = load_file(path, map_location)
    if apply is not None:
        try:
            apply(payload)
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError, RecursionError) as exc:
            # torch's state-dict message is a header line, then one line per mismatch: say the header
            # and the first mismatch (`size mismatch for body.0.weight: ... [64, 19] ... [32, 19]`)
            lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
            said = " ".join(lines[:2]) if lines and lines[0].endswith(":") else (lines or [""])[0]
            raise CheckpointError(f"{path}: does not fit this run ({type(exc).__name__}: {said[:300]})") from None
    return payload


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
