"""On-disk scenario datasets: safetensors shards plus a JSON manifest (no pickle anywhere).

Layout of a dataset directory::

    DIR/
      manifest.json             # written last; a directory without it is not a dataset
      shard-00000.safetensors   # scenarios [0, shard_size)
      shard-00001.safetensors   # scenarios [shard_size, 2 * shard_size)
      ...

Each shard holds one tensor per ``ScenarioBatch`` field, named after the field, scenario-major:
``features`` float32 (n, S, F) normalised with ``ahsd_train.normalization`` in ``feature_names``
order; ``mask`` bool (n, S); ``priority``, ``snr``, ``snr_estimate`` float32 (n, S);
``edge_type`` int64 (n, S), 0 = padding; ``n_signals`` int64 (n,); optionally ``strain`` float32
(n, S, D, T). ``S`` may differ between shards (each is trimmed to its largest scenario).

``manifest.json``::

    {"format": "ahsd-scenarios", "version": 1, "n_scenarios": int, "feature_names": [...],
     "fields": ["features", ...], "strain_shape": [D, T] | null,
     "shards": [{"file": "shard-00000.safetensors", "n_scenarios": int, "sha256": hex}, ...]}

Every file is written atomically (temp file, fsync, rename); the reader checks the format,
version, feature names and each shard's hash, and raises ``ShardError`` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import stat
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load, load_file, save

from ahsd_config.input.files import TooLarge, atomic_write_bytes, check_replaceable, read_bounded

from ahsd_train.engine.data import ScenarioBatch
from ahsd_train.errors import ShardError
from ahsd_train.engine.normalization import FEATURE_NAMES

FORMAT, VERSION = "ahsd-scenarios", 1
MANIFEST = "manifest.json"


def write_shards(batch: ScenarioBatch, out_dir: str | Path, shard_size: int) -> Path:
    """Write ``batch`` as shards of ``shard_size`` scenarios; returns the manifest path."""
    if shard_size < 1:
        raise ShardError(str(out_dir), f"shard_size = {shard_size} must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    starts = range(0, len(batch), shard_size)
    refuse_unreplaceable(out, [MANIFEST, *(shard_name(k) for k in range(len(starts)))])
    shards = []
    for k, start in enumerate(starts):
        part = batch.slice(slice(start, start + shard_size)).to("cpu")
        shards.append(write_shard(part, out / shard_name(k)))
    return write_manifest(out, shards, sorted(batch.tensors()),
                          list(batch.strain.shape[2:]) if batch.strain is not None else None)


def refuse_unreplaceable(out: Path, names: list[str]) -> None:
    """Refuse now, before the first shard, a file of `out` this writer would fail to replace later
    (a directory, a FIFO, a link to /dev/zero, read-only): every shard was written, then a FIFO
    manifest.json failed the command and left them."""
    for name in names:
        if (out / name).is_symlink() or (out / name).exists():
            check_replaceable(out / name)


def shard_name(k: int) -> str:
    return f"shard-{k:05d}.safetensors"


def write_shard(part: ScenarioBatch, path: Path, metadata: dict[str, str] | None = None) -> dict:
    """One shard file, written atomically; returns its manifest entry. ``metadata`` (strings: a
    generator's plan digest, for resuming) goes into the safetensors header as ONE key, ``ahsd``, a
    sorted JSON object: safetensors keeps the header's metadata in a Rust HashMap whose order changes
    from process to process, so two keys would make the same shard's bytes differ between runs."""
    meta = {"format": FORMAT} if not metadata else {"ahsd": json.dumps({**metadata, "format": FORMAT}, sort_keys=True)}
    payload = save({name: t.contiguous() for name, t in part.to("cpu").tensors().items()}, metadata=meta)
    atomic_write_bytes(path, payload)
    return {"file": path.name, "n_scenarios": len(part), "sha256": hashlib.sha256(payload).hexdigest()}


def complete_shard(path: Path, n_scenarios: int, metadata: dict[str, str]) -> dict | None:
    """The manifest entry of an existing shard that is whole (it loads, holds ``n_scenarios``) and was
    written with ``metadata``; ``None`` for anything else (missing, truncated, another plan's)."""
    try:
        payload = read_bounded(path, MAX_SHARD_BYTES)
        tensors = load(payload)
        with safe_open(str(path), "pt") as f:
            header = json.loads((f.metadata() or {}).get("ahsd", "{}"))
    except Exception:  # a partial or foreign file is simply redone
        return None
    if any(header.get(k) != v for k, v in metadata.items()) or int(tensors["n_signals"].shape[0]) != n_scenarios:
        return None
    return {"file": path.name, "n_scenarios": n_scenarios, "sha256": hashlib.sha256(payload).hexdigest()}


def write_manifest(out: Path, shards: list[dict], fields_: list[str], strain_shape: list[int] | None) -> Path:
    """The manifest, written last: a directory is a dataset once it exists."""
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "n_scenarios": sum(e["n_scenarios"] for e in shards),
        "feature_names": list(FEATURE_NAMES),
        "fields": sorted(fields_),
        "strain_shape": strain_shape,
        "shards": shards,
    }
    atomic_write_bytes(out / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return out / MANIFEST


MAX_MANIFEST_BYTES = 16 << 20
MAX_SHARD_BYTES = 8 << 30


def _read(path: Path, cap: int, what: str) -> bytes:
    """A regular file of at most `cap` bytes (never a FIFO, /dev/zero or a device), or ShardError."""
    try:
        return read_bounded(path, cap)
    except FileNotFoundError:
        raise ShardError(str(path), f"no such {what}") from None
    except TooLarge as e:
        raise ShardError(str(path), f"{what} is {e.size} bytes or more; the limit is {cap}") from None
    except OSError as e:
        raise ShardError(str(path), f"unreadable {what}: {e.strerror or e}") from None


def _no_dataset(root: Path) -> ShardError:
    """Why `root` is not a dataset, with the command that makes one there (or finishes one)."""
    make = f"ahsd-train data generate --out {shlex.quote(str(root))} --scenarios N"
    if not root.exists() and not root.is_symlink():
        return ShardError(str(root), f"no such dataset folder; make one with `{make}` (add --physics for "
                                     "LALSuite waveforms and detector noise)")
    if not root.is_dir():
        return ShardError(str(root), "not a folder: --data takes a dataset folder (its manifest.json and shards)")
    if any(root.glob("shard-*.safetensors")):
        return ShardError(str(root / MANIFEST), "no manifest: the shards here are an interrupted `ahsd-train data "
                                                "generate`; rerun it with the same arguments to finish the dataset")
    return ShardError(str(root / MANIFEST), f"no manifest: not a scenario dataset; make one with `{make}` "
                                            "(add --physics for LALSuite waveforms and detector noise)")


def _read_manifest(root: Path) -> dict:
    path = root / MANIFEST
    if not root.is_dir() or (not path.exists() and not path.is_symlink()):
        raise _no_dataset(root)
    try:
        manifest = json.loads(_read(path, MAX_MANIFEST_BYTES, "manifest").decode("utf-8"))
    except ValueError as e:  # not UTF-8, not JSON, an integer past Python's 4300 digits
        raise ShardError(str(path), f"unreadable manifest: {e}") from None
    except RecursionError:
        raise ShardError(str(path), "unreadable manifest: nested deeper than JSON's parser goes") from None
    return check_manifest(manifest, path)


MANIFEST_KEYS = ("format", "version", "n_scenarios", "feature_names", "fields", "strain_shape", "shards")
ENTRY_KEYS = ("file", "n_scenarios", "sha256")
MOST_SCENARIOS = 1 << 40  # the CLI's bound on every count
MOST_SAMPLES = 1 << 31  # per strain axis: a window of 2**31 samples is 8 GiB a signal already
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _count(value: object, most: int) -> bool:
    return type(value) is int and 0 <= value <= most


def check_manifest(manifest: object, path: Path) -> dict:
    """The one check of a manifest: every key present and none other, each with its type and range
    (what `write_manifest` writes), and the keys consistent with each other. ShardError names the
    key; a value in a message is repr'd and cut (a lone surrogate or a megabyte stays printable)."""
    def bad(message: str) -> ShardError:
        return ShardError(str(path), message)

    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise bad(f"not an {FORMAT} v{VERSION} manifest")
    if type(manifest["version"]) is not int:  # 1.0 == 1 and True == 1 in Python
        raise bad(f"`version` must be the integer {VERSION}, got {manifest['version']!r:.40}")
    unknown, missing = sorted(set(manifest) - set(MANIFEST_KEYS)), [k for k in MANIFEST_KEYS if k not in manifest]
    if unknown or missing:
        raise bad(f"keys must be exactly {list(MANIFEST_KEYS)}: unknown {ascii(unknown)[:120]}, missing {missing}")
    if manifest["feature_names"] != list(FEATURE_NAMES):
        raise bad(f"feature columns {manifest['feature_names']!r:.300} differ from this version's {list(FEATURE_NAMES)}")
    fields_ = manifest["fields"]
    if (not isinstance(fields_, list) or not all(isinstance(f, str) for f in fields_) or len(set(fields_)) != len(fields_)
            or not set(_DTYPES) - {"strain"} <= set(fields_) <= set(_DTYPES)):
        raise bad(f"`fields` must list {sorted(set(_DTYPES) - {'strain'})} (and optionally strain), each once, "
                  f"got {fields_!r:.200}")
    shape = manifest["strain_shape"]
    if "strain" in fields_:
        if not (isinstance(shape, list) and len(shape) == 2 and all(_count(n, MOST_SAMPLES) and n > 0 for n in shape)):
            raise bad(f"`strain_shape` must be [detectors, samples] (each 1 .. 2**31), got {shape!r:.60}")
    elif shape is not None:
        raise bad(f"`strain_shape` must be null when `fields` has no strain, got {shape!r:.60}")
    _check_entries(manifest["shards"], bad, path.parent)
    total = sum(e["n_scenarios"] for e in manifest["shards"])
    if not _count(manifest["n_scenarios"], MOST_SCENARIOS) or manifest["n_scenarios"] != total:
        raise bad(f"n_scenarios = {manifest['n_scenarios']!r:.40} but the shards hold {total}")
    return manifest


def _check_entries(shards: object, bad, root: Path) -> None:
    if not isinstance(shards, list) or not shards:
        raise bad("`shards` must be a non-empty list of {file, n_scenarios, sha256}")
    for i, e in enumerate(shards):
        ok = (isinstance(e, dict) and sorted(e) == sorted(ENTRY_KEYS) and isinstance(e["file"], str)
              and isinstance(e["sha256"], str) and _SHA256.fullmatch(e["sha256"]) is not None
              and _count(e["n_scenarios"], MOST_SCENARIOS))
        if not ok or Path(e["file"]).name != e["file"] or e["file"].startswith(".") or not e["file"].isprintable():
            raise bad(f"shards[{i}] must be {{file: a file name in {root}, n_scenarios: int, "
                      f"sha256: 64 hex digits}} and nothing else, got {ascii(e):.120}")
    files = [e["file"] for e in shards]
    if len(set(files)) != len(files):  # one shard twice would put the same scenarios in train and test
        twice = sorted({f for f in files if files.count(f) > 1})
        raise bad(f"shards list {', '.join(twice)} more than once")


def strain_shape_of(root: str | Path) -> tuple[int, int] | None:
    """A dataset's strain shape ``(detectors, samples)`` from its manifest alone, before any shard is
    read (None: the dataset holds no strain), so the preflight checks the model the data will get."""
    shape = _read_manifest(Path(root))["strain_shape"]
    return None if shape is None else (shape[0], shape[1])


def dataset_bytes(root: str | Path) -> int:
    """The size of a dataset's shard files as its manifest lists them (what reading it holds in
    memory, at least); files that are missing or not regular count 0 (the reader names them)."""
    root = Path(root)
    total = 0
    for entry in _read_manifest(root)["shards"]:
        try:
            st = (root / entry["file"]).stat()
        except OSError:
            continue
        total += st.st_size if stat.S_ISREG(st.st_mode) else 0
    return total


# ScenarioBatch field -> (dtype, rank); (n, S, ...) scenario-major
_DTYPES = {"features": (torch.float32, 3), "mask": (torch.bool, 2), "priority": (torch.float32, 2),
           "snr": (torch.float32, 2), "snr_estimate": (torch.float32, 2), "edge_type": (torch.int64, 2),
           "n_signals": (torch.int64, 1), "strain": (torch.float32, 4)}
FIELDS = tuple(_DTYPES)  # every field a shard can hold (strain optional)
# Largest magnitude per float field: normalised features are O(1) (a log column at 1e4 is e**10000),
# SNRs and whitened strain O(100); the bounds sit far above any real data and far below overflow.
MAGNITUDE = {"features": 1e4, "snr": 1e6, "snr_estimate": 1e6, "strain": 1e6}


def _check_tensors(path: Path, tensors: dict[str, torch.Tensor], entry: dict, fields_: list[str],
                   strain_shape: list[int] | None) -> None:
    """Every field present with its dtype and shape, the scenario count the manifest says, and
    ids and counts in range: a bad shard is named here, not as a shape error deep in the model."""
    missing, extra = set(fields_) - set(tensors), set(tensors) - set(fields_)
    if missing or extra:
        raise ShardError(str(path), f"tensors differ from the manifest's fields: missing {sorted(missing)}, extra {sorted(extra)}")
    n, width = entry["n_scenarios"], None
    for name, t in tensors.items():
        dtype, rank = _DTYPES[name]
        if t.dtype != dtype or t.dim() != rank:
            raise ShardError(str(path), f"{name} is {t.dtype} with {t.dim()} dimensions; expected {dtype} with {rank}")
        if t.shape[0] != n:
            raise ShardError(str(path), f"{name} holds {t.shape[0]} scenarios; the manifest says {n}")
        if rank >= 2:
            width = t.shape[1] if width is None else width
            if t.shape[1] != width:
                raise ShardError(str(path), f"{name} has {t.shape[1]} signal slots; the other fields have {width}")
    if "strain" in tensors and list(tensors["strain"].shape[2:]) != strain_shape:
        raise ShardError(str(path), f"strain is [detectors, samples] = {list(tensors['strain'].shape[2:])}; "
                                    f"the manifest's strain_shape says {strain_shape}")
    if tensors["features"].shape[2] != len(FEATURE_NAMES):
        raise ShardError(str(path), f"features has {tensors['features'].shape[2]} columns; expected {len(FEATURE_NAMES)}")
    if n and (int(tensors["edge_type"].min()) < 0 or int(tensors["n_signals"].min()) < 0
              or int(tensors["n_signals"].max()) > (width or 0)):
        raise ShardError(str(path), "edge_type below 0, or n_signals outside [0, signal slots]")
    for name, t in tensors.items():  # a NaN in the data would read as the model diverging at step 1
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ShardError(str(path), f"{name} holds NaN or infinite values")
        # so would a finite 3e38: the first layer overflows (a "non-finite loss at step 1" stop)
        if name in MAGNITUDE and n and float(t.abs().max()) > MAGNITUDE[name]:
            raise ShardError(str(path), f"{name} holds values up to {float(t.abs().max()):.3g}; "
                                        f"at most {MAGNITUDE[name]:g} in magnitude is data this model can read")
    slots = torch.arange(width or 0) < tensors["n_signals"].unsqueeze(-1)  # (n, S): the first n_signals slots
    if n and not torch.equal(tensors["mask"], slots):
        raise ShardError(str(path), "mask does not mark exactly the first n_signals slots of each scenario")
    priority = tensors["priority"]
    if n and not bool(((priority >= 0) & (priority <= 1)).all()):
        raise ShardError(str(path), "priority labels outside [0, 1]")


def read_shards(directory: str | Path) -> ScenarioBatch:
    """All scenarios of a dataset directory as one batch (CPU), padded to the widest shard."""
    root = Path(directory)
    manifest = _read_manifest(root)
    parts = []
    for entry in manifest["shards"]:
        path = root / entry["file"]
        payload = _read(path, MAX_SHARD_BYTES, "shard")
        if hashlib.sha256(payload).hexdigest() != entry["sha256"]:
            raise ShardError(str(path), "content does not match the manifest's sha256 (corrupt or replaced)")
        try:
            tensors = load_file(str(path))
        except Exception as e:  # safetensors raises its own error types for malformed headers
            raise ShardError(str(path), f"not a readable safetensors file: {e}") from None
        _check_tensors(path, tensors, entry, manifest["fields"], manifest["strain_shape"])
        parts.append(ScenarioBatch(**tensors))
    if not parts:
        raise ShardError(str(root / MANIFEST), "the manifest lists no shards")
    width = max(p.features.shape[1] for p in parts)
    parts = [p.pad(width) for p in parts]
    names = parts[0].tensors().keys()
    return ScenarioBatch(**{name: torch.cat([getattr(p, name) for p in parts]) for name in names})
