"""Checkpoints: atomic writes, weights_only loading, fallback to the previous one, RNG and config diff."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ahsd_config.input.files import atomic_write, atomic_write_bytes
from ahsd_train.run import checkpoint as ckpt
from ahsd_train.errors import CheckpointError, ResumeRefused


def payload(value: float) -> dict:
    return {"model": {"w": torch.full((3,), value)}, "rng": ckpt.capture_rng(),
            "progress": {"epoch": 1, "batch": 2, "step": 7, "best_val_loss": float("inf")},
            "config_json": '{"a": 1}', "run_options_json": "{}",
            "optimizer": {}, "warmup": {}, "plateau": {}, "health": {}}  # what a resume reads


def test_save_rotates_last_to_prev_and_loads_weights_only(tmp_path):
    ckpt.save(tmp_path, payload(1.0))
    ckpt.save(tmp_path, payload(2.0), best=True, intermediate_epoch=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "epoch_0003.pt", "last.prev.pt", "last.pt"]
    assert float(ckpt.load_file(tmp_path / "last.pt")["model"]["w"][0]) == 2.0
    assert float(ckpt.load_file(tmp_path / "last.prev.pt")["model"]["w"][0]) == 1.0
    # plain torch.load with weights_only=True reads it: only tensors and primitive containers inside
    assert torch.load(tmp_path / "last.pt", weights_only=True)["progress"]["step"] == 7


def test_corrupt_latest_falls_back_to_previous_with_a_warning(tmp_path):
    ckpt.save(tmp_path, payload(1.0))
    ckpt.save(tmp_path, payload(2.0))
    data = (tmp_path / "last.pt").read_bytes()
    (tmp_path / "last.pt").write_bytes(data[: len(data) // 2])  # a torn write from another tool
    warnings = []
    loaded, fell_back = ckpt.load_latest(tmp_path, warnings.append)
    assert fell_back and float(loaded["model"]["w"][0]) == 1.0
    assert "unreadable checkpoint" in warnings[0] and "last.prev.pt" in warnings[0]
    (tmp_path / "last.prev.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError):
        ckpt.load_latest(tmp_path, warnings.append)


def test_failed_write_leaves_the_old_file_and_no_temp_files(tmp_path):
    target = tmp_path / "x.bin"
    atomic_write(target, "old")

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_bytes(target, boom)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_rng_states_round_trip_through_tensors(tmp_path):
    torch.manual_seed(1); random.seed(2); np.random.seed(3)
    state = ckpt.capture_rng()
    ckpt.save(tmp_path, {**payload(0.0), "rng": state})
    first = (torch.rand(3), random.random(), np.random.rand())
    ckpt.restore_rng(ckpt.load_file(tmp_path / "last.pt")["rng"])
    second = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(first[0], second[0]) and first[1:] == second[1:]


def test_config_diff_is_per_dotted_key_and_refusal_names_it():
    old = {"priority_net": {"learning_rate": 3e-5, "hidden_dims": [64, 32]}, "seed": 1}
    new = {"priority_net": {"learning_rate": 1.5e-5, "hidden_dims": [64, 32]}, "seed": 1}
    assert ckpt.config_diff(old, new) == [("priority_net.learning_rate", 3e-5, 1.5e-5)]
    import json

    saved = {"config_json": json.dumps(old), "run_options_json": "{}"}
    with pytest.raises(ResumeRefused, match=r"priority_net.learning_rate: 3e-05 -> 1.5e-05"):
        ckpt.check_resume_config("ckpt", saved, json.dumps(new), "{}", force=False)
    assert ckpt.check_resume_config("ckpt", saved, json.dumps(new), "{}", force=True)
