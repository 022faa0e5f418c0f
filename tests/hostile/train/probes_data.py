"""Kind `data`: a `--data` dataset broken in every place (manifest fields, shard files, tensors)
must be refused (exit 2, one line) before training writes a metric."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from harness import Ctx, Probe

KINDS = {"data"}
NEEDS = {"run", "ds"}


def retensor(ds: Path, change, shard=0, rehash=True):
    from safetensors.torch import load_file, save

    p = ds / f"shard-{shard:05d}.safetensors"
    t = load_file(str(p))
    change(t)
    payload = save(t)
    p.write_bytes(payload)
    if rehash:
        m = json.loads((ds / "manifest.json").read_text())
        m["shards"][shard]["sha256"] = hashlib.sha256(payload).hexdigest()
        (ds / "manifest.json").write_text(json.dumps(m))


def manifest(ds: Path, change):
    m = json.loads((ds / "manifest.json").read_text())
    r = change(m)
    m = r if isinstance(r, dict) else m
    (ds / "manifest.json").write_text(json.dumps(m))


def rehash_raw(ds, shard=0):
    p = ds / f"shard-{shard:05d}.safetensors"
    m = json.loads((ds / "manifest.json").read_text())
    m["shards"][shard]["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
    (ds / "manifest.json").write_text(json.dumps(m))


def _t(fn):
    def change(t):
        import torch  # noqa

        fn(t, torch)
    return change


def header_huge(ds):
    p = ds / "shard-00000.safetensors"
    raw = p.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    hdr = json.loads(raw[8:8 + n])
    hdr["features"]["shape"] = [10**12, 4, 12]
    new = json.dumps(hdr).encode()
    new += b" " * ((8 - len(new) % 8) % 8)
    p.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n:])
    rehash_raw(ds)


def header_len_huge(ds):
    p = ds / "shard-00000.safetensors"
    raw = p.read_bytes()
    p.write_bytes((10**15).to_bytes(8, "little") + raw[8:])
    rehash_raw(ds)


def truncate(ds):
    p = ds / "shard-00000.safetensors"
    p.write_bytes(p.read_bytes()[:300])
    rehash_raw(ds)


DATA = {
    "missing_dir": lambda ds: shutil.rmtree(ds),
    "no_manifest": lambda ds: (ds / "manifest.json").unlink(),
    "ds_is_file": lambda ds: (shutil.rmtree(ds), ds.write_text("x")),
    "ds_devzero": lambda ds: (shutil.rmtree(ds), ds.symlink_to("/dev/zero")),
    "ds_fifo": lambda ds: (shutil.rmtree(ds), os.mkfifo(ds)),
    "ds_dangling": lambda ds: (shutil.rmtree(ds), ds.symlink_to("/nonexistent/x")),
    "manifest_devzero": lambda ds: ((ds / "manifest.json").unlink(), (ds / "manifest.json").symlink_to("/dev/zero")),
    "manifest_fifo": lambda ds: ((ds / "manifest.json").unlink(), os.mkfifo(ds / "manifest.json")),
    "manifest_dir": lambda ds: ((ds / "manifest.json").unlink(), (ds / "manifest.json").mkdir()),
    "manifest_dangling": lambda ds: ((ds / "manifest.json").unlink(), (ds / "manifest.json").symlink_to(ds / "zz")),
    "manifest_list": lambda ds: (ds / "manifest.json").write_text("[1, 2]"),
    "manifest_garbage": lambda ds: (ds / "manifest.json").write_bytes(b"\xff\xfe{{"),
    "manifest_empty": lambda ds: (ds / "manifest.json").write_text(""),
    "manifest_huge_n": lambda ds: manifest(ds, lambda m: m.update(n_scenarios=10**30)),
    "manifest_shard_huge_n": lambda ds: manifest(ds, lambda m: m["shards"][0].update(n_scenarios=10**30)),
    "manifest_shard_neg_n": lambda ds: manifest(ds, lambda m: m["shards"][0].update(n_scenarios=-1)),
    "manifest_shard_float_n": lambda ds: manifest(ds, lambda m: m["shards"][0].update(n_scenarios=5.0)),
    "manifest_shards_dict": lambda ds: manifest(ds, lambda m: m.update(shards={"a": 1})),
    "manifest_shards_empty": lambda ds: manifest(ds, lambda m: m.update(shards=[])),
    "manifest_shard_str": lambda ds: manifest(ds, lambda m: m.update(shards=["shard-00000.safetensors"])),
    "manifest_abs_path": lambda ds: manifest(ds, lambda m: m["shards"][0].update(file="/etc/passwd")),
    "manifest_dotdot": lambda ds: manifest(ds, lambda m: m["shards"][0].update(file="../x")),
    "manifest_dup_shard": lambda ds: manifest(ds, lambda m: m["shards"].append(m["shards"][0])),
    "manifest_fields_extra": lambda ds: manifest(ds, lambda m: m["fields"].append("bogus")),
    "manifest_fields_strain": lambda ds: manifest(ds, lambda m: m["fields"].append("strain")),
    "manifest_strain_shape_bad": lambda ds: manifest(ds, lambda m: (m["fields"].append("strain"), m.update(strain_shape=[10**12, 10**12]))),
    "manifest_feature_names": lambda ds: manifest(ds, lambda m: m.update(feature_names=["x"])),
    "manifest_version": lambda ds: manifest(ds, lambda m: m.update(version=2)),
    "manifest_nan": lambda ds: (ds / "manifest.json").write_text((ds / "manifest.json").read_text().replace('"version": 1', '"version": NaN')),
    "manifest_surrogate": lambda ds: (ds / "manifest.json").write_text((ds / "manifest.json").read_text().replace('"format"', '"\\udcff": 1, "format"')),
    "manifest_deep": lambda ds: (ds / "manifest.json").write_text("[" * 100000 + "]" * 100000),
    "manifest_big_int": lambda ds: (ds / "manifest.json").write_text((ds / "manifest.json").read_text().replace('"version": 1', '"version": 1' + "0" * 5000)),
    "shard_missing": lambda ds: (ds / "shard-00001.safetensors").unlink(),
    "shard_dir": lambda ds: ((ds / "shard-00001.safetensors").unlink(), (ds / "shard-00001.safetensors").mkdir()),
    "shard_fifo": lambda ds: ((ds / "shard-00001.safetensors").unlink(), os.mkfifo(ds / "shard-00001.safetensors")),
    "shard_devzero": lambda ds: ((ds / "shard-00001.safetensors").unlink(), (ds / "shard-00001.safetensors").symlink_to("/dev/zero")),
    "shard_dangling": lambda ds: ((ds / "shard-00001.safetensors").unlink(), (ds / "shard-00001.safetensors").symlink_to(ds / "qq")),
    "shard_garbage_rehash": lambda ds: ((ds / "shard-00000.safetensors").write_bytes(os.urandom(500)), rehash_raw(ds)),
    "shard_truncated": truncate,
    "shard_bad_hash": lambda ds: (ds / "shard-00000.safetensors").write_bytes((ds / "shard-00000.safetensors").read_bytes()[:-1] + b"\x01"),
    "shard_header_huge_shape": header_huge,
    "shard_header_len_huge": header_len_huge,
    "t_missing": lambda ds: retensor(ds, lambda t: t.pop("priority")),
    "t_extra": lambda ds: retensor(ds, _t(lambda t, torch: t.update(bogus=torch.zeros(3)))),
    "t_dtype_features": lambda ds: retensor(ds, _t(lambda t, torch: t.update(features=t["features"].double()))),
    "t_dtype_edge": lambda ds: retensor(ds, _t(lambda t, torch: t.update(edge_type=t["edge_type"].int()))),
    "t_dtype_nsig": lambda ds: retensor(ds, _t(lambda t, torch: t.update(n_signals=t["n_signals"].float()))),
    "t_width": lambda ds: retensor(ds, _t(lambda t, torch: t.update(features=t["features"][:, :, :5].contiguous()))),
    "t_slots": lambda ds: retensor(ds, _t(lambda t, torch: t.update(mask=t["mask"][:, :2].contiguous()))),
    "t_rank": lambda ds: retensor(ds, _t(lambda t, torch: t.update(priority=t["priority"][:, :, None].contiguous()))),
    "t_count": lambda ds: retensor(ds, _t(lambda t, torch: t.update(n_signals=t["n_signals"][:3].contiguous()))),
    "t_nan_features": lambda ds: retensor(ds, _t(lambda t, torch: t["features"].fill_(float("nan")))),
    "t_inf_features": lambda ds: retensor(ds, _t(lambda t, torch: t["features"].fill_(float("inf")))),
    "t_nan_priority": lambda ds: retensor(ds, _t(lambda t, torch: t["priority"].fill_(float("nan")))),
    "t_inf_snr": lambda ds: retensor(ds, _t(lambda t, torch: t["snr"].fill_(float("inf")))),
    "t_nan_snr_est": lambda ds: retensor(ds, _t(lambda t, torch: t["snr_estimate"].fill_(float("nan")))),
    "t_huge_features": lambda ds: retensor(ds, _t(lambda t, torch: t["features"].fill_(3e38))),
    "t_edge_big": lambda ds: retensor(ds, _t(lambda t, torch: t["edge_type"].fill_(10**6))),
    "t_edge_19": lambda ds: retensor(ds, _t(lambda t, torch: t["edge_type"].fill_(19))),
    "t_edge_neg": lambda ds: retensor(ds, _t(lambda t, torch: t["edge_type"].fill_(-1))),
    "t_nsig_big": lambda ds: retensor(ds, _t(lambda t, torch: t["n_signals"].fill_(1000))),
    "t_nsig_zero": lambda ds: retensor(ds, _t(lambda t, torch: t["n_signals"].fill_(0))),
    "t_mask_none": lambda ds: retensor(ds, _t(lambda t, torch: t["mask"].fill_(False))),
    "t_mask_all": lambda ds: retensor(ds, _t(lambda t, torch: t["mask"].fill_(True))),
    "t_mask_vs_nsig": lambda ds: retensor(ds, _t(lambda t, torch: t["n_signals"].fill_(1))),
    "t_priority_big": lambda ds: retensor(ds, _t(lambda t, torch: t["priority"].fill_(1e30))),
    "t_zero_scen": lambda ds: (retensor(ds, _t(lambda t, torch: [t.update({k: v[:0].contiguous()}) for k, v in list(t.items())])),
                               manifest(ds, lambda m: m["shards"][0].update(n_scenarios=0))),
    "t_strain_wrong": lambda ds: (retensor(ds, _t(lambda t, torch: t.update(strain=torch.zeros(10, t["mask"].shape[1], 3, 8)))),
                                  manifest(ds, lambda m: (m["fields"].append("strain"), m.update(strain_shape=[3, 8])))),
    "all_empty_shards": lambda ds: manifest(ds, lambda m: [e.update(n_scenarios=0) for e in m["shards"]]),
    "one_scenario": lambda ds: manifest(ds, lambda m: m.update(shards=m["shards"][:1])),
}


def probes(ctx: Ctx) -> list[Probe]:
    run = ctx.run_args()

    def setup_with(fn):
        def setup(d: Path) -> None:
            shutil.copytree(ctx.base_ds, d / "ds", symlinks=True)
            fn(d / "ds")
        return setup

    out = [Probe(f"data-{name}", "data", [*run, "--max-steps", "3", "--data", "{d}/ds", "--out", "{d}/r"],
                 setup=setup_with(fn), timeout=90, check=nothing_created("r/metrics.jsonl"))
           for name, fn in DATA.items()]
    out.append(Probe("data-good", "data", [*run, "--max-steps", "3", "--data", "{d}/ds", "--out", "{d}/r"],
                     setup=setup_with(lambda ds: None), expect={0}))
    # a strain model on a dataset with strain trains; exit 2 only if preflight refuses it
    out.append(Probe("data-good-strain-model", "data", [*run, "--set", "priority_net.use_strain=true", "--max-steps",
                                                        "3", "--data", "{d}/ds", "--out", "{d}/r"],
                     setup=setup_with(lambda ds: None), expect={0}))
    return out


def nothing_created(rel: str):
    def check(d: Path, res) -> list[str]:
        return ["CREATED"] if (d / rel).exists() else []
    return check
