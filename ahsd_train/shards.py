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
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from ahsd_config.atomic import atomic_write_bytes

from .data import ScenarioBatch
from .errors import ShardError
from .normalization import FEATURE_NAMES

FORMAT, VERSION = "ahsd-scenarios", 1
MANIFEST = "manifest.json"


def write_shards(batch: ScenarioBatch, out_dir: str | Path, shard_size: int) -> Path:
    """Write ``batch`` as shards of ``shard_size`` scenarios; returns the manifest path."""
    if shard_size < 1:
        raise ShardError(str(out_dir), f"shard_size = {shard_size} must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shards = []
    for k, start in enumerate(range(0, len(batch), shard_size)):
        part = batch.slice(slice(start, start + shard_size)).to("cpu")
        payload = save({name: t.contiguous() for name, t in part.tensors().items()}, metadata={"format": FORMAT})
        name = f"shard-{k:05d}.safetensors"
        atomic_write_bytes(out / name, payload)
        shards.append({"file": name, "n_scenarios": len(part), "sha256": hashlib.sha256(payload).hexdigest()})
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "n_scenarios": len(batch),
        "feature_names": list(FEATURE_NAMES),
        "fields": sorted(batch.tensors()),
        "strain_shape": list(batch.strain.shape[2:]) if batch.strain is not None else None,
        "shards": shards,
    }
    atomic_write_bytes(out / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return out / MANIFEST


def _read_manifest(root: Path) -> dict:
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShardError(str(path), "no manifest: not a scenario dataset (write one with write_shards)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ShardError(str(path), f"unreadable manifest: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ShardError(str(path), f"not an {FORMAT} v{VERSION} manifest")
    if manifest.get("feature_names") != list(FEATURE_NAMES):
        raise ShardError(str(path), f"feature columns {manifest.get('feature_names')} differ from this version's {list(FEATURE_NAMES)}")
    return manifest


def read_shards(directory: str | Path) -> ScenarioBatch:
    """All scenarios of a dataset directory as one batch (CPU), padded to the widest shard."""
    root = Path(directory)
    manifest = _read_manifest(root)
    parts = []
    for entry in manifest["shards"]:
        path = root / entry["file"]
        try:
            payload = path.read_bytes()
        except OSError as e:
            raise ShardError(str(path), f"unreadable shard: {e.strerror}") from None
        if hashlib.sha256(payload).hexdigest() != entry["sha256"]:
            raise ShardError(str(path), "content does not match the manifest's sha256 (corrupt or replaced)")
        try:
            tensors = load_file(str(path))
        except Exception as e:  # safetensors raises its own error types for malformed headers
            raise ShardError(str(path), f"not a readable safetensors file: {e}") from None
        missing = set(manifest["fields"]) - set(tensors)
        if missing:
            raise ShardError(str(path), f"missing tensors {sorted(missing)}")
        parts.append(ScenarioBatch(**tensors))
    if not parts:
        raise ShardError(str(root / MANIFEST), "the manifest lists no shards")
    width = max(p.features.shape[1] for p in parts)
    parts = [p.pad(width) for p in parts]
    names = parts[0].tensors().keys()
    return ScenarioBatch(**{name: torch.cat([getattr(p, name) for p in parts]) for name in names})
