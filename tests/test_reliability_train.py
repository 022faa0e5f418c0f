"""The trainer under signals and bad files (issue 9; issue 13 item 3).

Real subprocesses get SIGTERM / SIGINT; checkpoint saves are failed and killed at every step;
incomplete or wrong-typed checkpoints fall back to the previous one with a named reason.
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from ahsd_train.run import checkpoint as ckpt
from ahsd_train.errors import CheckpointError

from faults import count_steps, die_at, fail_at
from test_train_support import CONFIG, PYTHON, ROOT, TINY, cli, set_args

LONG = ["run", "--config", str(CONFIG), "--device", "cpu",
        *set_args(TINY + ("priority_net.epochs=200", "output.generate_plots=false"))]


def _steps_logged(run_dir: Path) -> int:
    try:
        return (run_dir / "metrics.jsonl").read_text().count('"kind": "step"')
    except FileNotFoundError:
        return 0


def _start_and_signal(run_dir: Path, sig: int, after_steps: int, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([PYTHON, "-m", "ahsd_train", *LONG, *extra, "--out", str(run_dir)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _steps_logged(run_dir) < after_steps and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
def test_sigterm_before_the_first_checkpoint_says_so_and_resume_starts_again(tmp_path):
    run_dir = tmp_path / "run"
    done = _start_and_signal(run_dir, signal.SIGTERM, 1)
    assert done.returncode == 130, done.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted" and info["checkpoint_step"] is None
    assert "before the first checkpoint: there is nothing to resume" in done.stderr
    assert "last checkpoint" not in done.stderr and "Traceback" not in done.stderr
    again = cli(*LONG, "--out", str(run_dir), "--resume", "--max-steps", "2")
    assert again.returncode == 0, again.stderr
    assert "interrupted before its first checkpoint; starting it again from step 0" in again.stderr
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"


@pytest.mark.slow
def test_sigint_after_a_checkpoint_keeps_it_and_says_its_step(tmp_path):
    run_dir = tmp_path / "run"
    done = _start_and_signal(run_dir, signal.SIGINT, 5, "--checkpoint-every-steps", "2")
    assert done.returncode == 130, done.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted" and info["checkpoint_step"] >= 2
    assert f"the last checkpoint (step {info['checkpoint_step']}) is kept" in done.stderr
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert not [p for p in (run_dir / "checkpoints").iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------------------- checkpoints
def _payload(step: int) -> dict:
    return {"model": {"w": torch.zeros(3)}, "optimizer": {}, "warmup": {}, "plateau": {},
            "rng": {}, "progress": {"epoch": 0, "batch": step, "step": step}, "health": {},
            "config_json": "{}", "run_options_json": "{}"}


def test_a_save_failing_or_killed_at_any_step_keeps_a_whole_last_pt(tmp_path):
    folder = tmp_path / "checkpoints"
    ckpt.save(folder, _payload(1))
    ckpt.save(folder, _payload(2))
    steps = count_steps(folder, lambda: ckpt.save(folder, _payload(3)))
    assert steps >= 4
    for n in range(1, steps + 1):
        ckpt.save(folder, _payload(2))  # the state before the save under test
        exc = fail_at(folder, n, lambda: ckpt.save(folder, _payload(3)))
        assert exc is None or isinstance(exc, OSError)
        assert ckpt.newest_step(folder) == (2 if exc else 3), f"step {n}"
        assert not [p for p in folder.iterdir() if p.name.startswith(".")], f"step {n}: temp left"
        ckpt.save(folder, _payload(2))
        die_at(folder, n, lambda: ckpt.save(folder, _payload(3)))
        assert (folder / "last.pt").is_file(), f"step {n}: no last.pt after a kill"
        assert ckpt.newest_step(folder) in (2, 3)
        ckpt.save(folder, _payload(2))  # the next save sweeps what the killed one left
        assert not [p for p in folder.iterdir() if p.name.startswith(".")], f"step {n}: temp not swept"


@pytest.mark.parametrize("bad, reason", [
    ({"format": 1}, "incomplete checkpoint: model, optimizer"),
    ({**_payload(5), "format": 1, "config_json": 5}, "malformed checkpoint: config_json is int, not str"),
    ({**_payload(5), "format": 1, "progress": {"epoch": 0, "batch": 0, "step": "x"}}, "progress.step not an integer"),
    ("directory", "not a checkpoint file"),
])
def test_a_bad_last_pt_falls_back_to_the_previous_with_the_reason(tmp_path, bad, reason):
    folder = tmp_path / "checkpoints"
    ckpt.save(folder, _payload(4))
    ckpt.save(folder, _payload(5))
    (folder / "last.pt").unlink()
    if bad == "directory":
        (folder / "last.pt").mkdir()
    else:
        torch.save(bad, folder / "last.pt")
    warnings = []
    payload, fell_back = ckpt.load_latest(folder, warnings.append)
    assert fell_back and payload["progress"]["step"] == 4
    assert reason in warnings[0] and "falling back to" in warnings[0]
    (folder / "last.prev.pt").unlink()
    with pytest.raises(CheckpointError, match="no previous checkpoint to fall back to"):
        ckpt.load_latest(folder, warnings.append)


def test_checkpoints_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "checkpoints").write_text("x")
    with pytest.raises(CheckpointError, match="not a folder of checkpoints"):
        ckpt.load_latest(tmp_path / "checkpoints", print)


def test_enospc_during_a_save_raises_oserror_and_leaves_no_temp(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    ckpt.save(folder, _payload(1))
    real = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        ckpt.save(folder, _payload(2))
    monkeypatch.setattr(os, "fsync", real)
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt"] and ckpt.newest_step(folder) == 1


# ------------------------------------------------------------------------------ data shards
def _dataset(tmp_path: Path) -> Path:
    from ahsd_train.review.bench import project_config
    from ahsd_train.engine.data import SyntheticScenarioSource
    from ahsd_train.engine.shards import write_shards

    cfg = project_config()
    pn = cfg.priority_net.model_copy(update={"use_strain": False})
    write_shards(SyntheticScenarioSource(cfg.data, pn, seed=0).generate(10), tmp_path / "ds", 5)
    return tmp_path / "ds"


def _retensor(ds: Path, change) -> None:
    """Rewrite shard 0 with `change(tensors)` applied, and its hash in the manifest (so only the
    content check can catch it)."""
    import hashlib

    from safetensors.torch import load_file, save

    shard = ds / "shard-00000.safetensors"
    tensors = load_file(str(shard))
    change(tensors)
    payload = save(tensors)
    shard.write_bytes(payload)
    manifest = json.loads((ds / "manifest.json").read_text())
    manifest["shards"][0]["sha256"] = hashlib.sha256(payload).hexdigest()
    (ds / "manifest.json").write_text(json.dumps(manifest))


def _manifest(ds: Path, change) -> None:
    manifest = json.loads((ds / "manifest.json").read_text())
    change(manifest)
    (ds / "manifest.json").write_text(json.dumps(manifest))


SHARD_BREAKS = {
    "no shards key": (lambda ds: _manifest(ds, lambda m: m.pop("shards")), "missing ['shards']"),
    "entry outside": (lambda ds: _manifest(ds, lambda m: m["shards"][0].update(file="../x")), "must be {file"),
    "wrong dtype": (lambda ds: _retensor(ds, lambda t: t.update(mask=t["mask"].float())), "mask is torch.float32"),
    "wrong width": (lambda ds: _retensor(ds, lambda t: t.update(features=t["features"][:, :, :3].contiguous())),
                    "features has 3 columns"),
    "negative edge": (lambda ds: _retensor(ds, lambda t: t["edge_type"].fill_(-4)), "edge_type below 0"),
    "nan features": (lambda ds: _retensor(ds, lambda t: t["features"].fill_(float("nan"))), "features holds NaN"),
    "3e38 features": (lambda ds: _retensor(ds, lambda t: t["features"].fill_(3e38)), "features holds values up to 3e+38"),
    "1e7 snr": (lambda ds: _retensor(ds, lambda t: t["snr"].fill_(1e7)), "snr holds values up to 1e+07"),
    "inf label": (lambda ds: _retensor(ds, lambda t: t["priority"].fill_(float("inf"))), "priority holds NaN or infinite values"),
    "label above 1": (lambda ds: _retensor(ds, lambda t: t["priority"].masked_fill_(t["mask"], 7.0)), "outside [0, 1]"),
    "mask vs count": (lambda ds: _retensor(ds, lambda t: t["n_signals"].fill_(1)), "mask does not mark exactly"),
    "no signal marked": (lambda ds: _retensor(ds, lambda t: t["mask"].fill_(False)), "mask does not mark exactly"),
    "total mismatch": (lambda ds: _manifest(ds, lambda m: m.update(n_scenarios=10**30)), "but the shards hold 10"),
    "a shard twice": (lambda ds: _manifest(ds, lambda m: m["shards"].append(m["shards"][0])), "more than once"),
    "fields not names": (lambda ds: _manifest(ds, lambda m: m.update(fields=[["mask"]])), "`fields` must list"),
    "nested manifest": (lambda ds: (ds / "manifest.json").write_text("[" * 100_000), "nested deeper"),
    "5000-digit number": (lambda ds: (ds / "manifest.json").write_text('{"version": 1' + "0" * 5000 + "}"),
                          "unreadable manifest: Exceeds the limit"),
    "count mismatch": (lambda ds: _manifest(ds, lambda m: (m["shards"][0].update(n_scenarios=7),
                                                           m.update(n_scenarios=m["n_scenarios"] + 2))),
                       "holds 5 scenarios; the manifest says 7"),
    "fifo shard": (lambda ds: ((ds / "shard-00000.safetensors").unlink(), os.mkfifo(ds / "shard-00000.safetensors")),
                   "not a regular file (a FIFO)"),
    "dev zero shard": (lambda ds: ((ds / "shard-00000.safetensors").unlink(),
                                   (ds / "shard-00000.safetensors").symlink_to("/dev/zero")),
                       "not a regular file (a character device)"),
}


HOSTILE_JSON = [None, True, False, 0, -1, 1.5, 10**30, "", "x", "\udcff", [], [1, 2], {}, {"a": 1}]


def _places(value, at=()):
    """Every place of a manifest: each key's value, each list item, each shard entry's values."""
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:2]):
            yield from _places(item, (*at, i))


def _put(manifest, at, value):
    import copy

    out = copy.deepcopy(manifest)
    target = out
    for step in at[:-1]:
        target = target[step]
    target[at[-1]] = value
    return out


@pytest.mark.parametrize("strain", [False, True], ids=["no strain", "strain"])
def test_every_manifest_value_replaced_by_a_hostile_one_is_refused_by_the_one_check(tmp_path, strain):
    """The manifest class: each place (every key, list item and shard entry value) replaced by each
    hostile JSON value (wrong types, 1.5 for an int, True for 1, 10**30, a lone surrogate, ...),
    plus an unknown key, a duplicate field and a strain shape the shards do not have: read_shards
    raises ShardError naming the dataset, never trains on it (`fields: [.., strain, strain]`, an
    unknown key and a 10**12 strain_shape used to be read as a good dataset)."""
    from ahsd_train.review.bench import project_config
    from ahsd_train.engine.data import SyntheticScenarioSource
    from ahsd_train.engine.shards import read_shards, write_shards
    from ahsd_train.errors import ShardError

    cfg = project_config()
    pn = cfg.priority_net.model_copy(update={"use_strain": strain})
    data = cfg.data.model_copy(update={"synthetic": cfg.data.synthetic.model_copy(update={"max_signals": 3})})
    ds = tmp_path / "ds"
    write_shards(SyntheticScenarioSource(data, pn, seed=0).generate(4), ds, 2)
    good = json.loads((ds / "manifest.json").read_text())
    read_shards(ds)
    cases = [_put(good, at, value) for at in list(_places(good))[1:] for value in HOSTILE_JSON]
    cases += [_put(good, at, float(v)) for at in list(_places(good))[1:] for v in [_get(good, at)] if type(v) is int]
    cases += [{**good, "\udcff": 1}, {**good, "comment": "x"}, _put(good, ("shards", 0, "extra"), 1),
              _put(good, ("fields",), [*good["fields"], good["fields"][0]]),
              _put(good, ("strain_shape",), [10**12, 10**12] if strain else [2, 8]),
              _put(good, ("strain_shape",), [good["strain_shape"][0], good["strain_shape"][1] + 1] if strain else None)]
    refused = 0
    for manifest in cases:
        if manifest == good and type(manifest.get("version")) is int:
            continue
        (ds / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ShardError) as info:
            read_shards(ds)
        assert str(ds) in info.value.message, info.value.message
        refused += 1
    assert refused > 150


def _get(manifest, at):
    for step in at:
        manifest = manifest[step]
    return manifest


def test_edge_ids_past_the_models_embedding_are_one_line_before_training(tmp_path):
    """A dataset made for more edge types than this config's embedding rows: an IndexError
    traceback at the first step before; one line naming the dataset and the key now."""
    from typer.testing import CliRunner

    from ahsd_train.cli import app

    ds = _dataset(tmp_path)
    _retensor(ds, lambda t: t["edge_type"].masked_fill_(t["mask"], 40))
    res = CliRunner().invoke(app, ["run", "--config", str(CONFIG), *set_args(TINY), "--data", str(ds), "--device",
                                   "cpu", "--max-steps", "1", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert f"{ds}: edge_type ids reach 40, but priority_net.n_edge_types = 19" in res.output
    assert not (tmp_path / "r" / "metrics.jsonl").exists()


@pytest.mark.parametrize("what", list(SHARD_BREAKS))
def test_a_bad_shard_dataset_is_a_shard_error_naming_the_file(tmp_path, what):
    from ahsd_train.errors import ShardError
    from ahsd_train.engine.shards import read_shards

    ds = _dataset(tmp_path)
    breaker, words = SHARD_BREAKS[what]
    breaker(ds)
    with pytest.raises(ShardError) as info:
        read_shards(ds)
    assert words in info.value.message and str(ds) in info.value.message


# ---------------------------------------------------------------------- bad run files, --set
def _run_dir(tmp_path: Path) -> Path:
    from ahsd_train.run import runlog
    from ahsd_train.review.bench import project_config

    run = tmp_path / "run"
    run.mkdir()
    # python mode, as `ahsd-train run` writes it (int mapping keys stay ints)
    (run / runlog.RESOLVED).write_text(runlog.dump_yaml(project_config().model_dump(mode="python")))
    return run


@pytest.mark.parametrize("name, text, words", [
    ("run.json", "{bad", "run.json: unreadable (JSONDecodeError"),
    ("run.json", "[1, 2]", "run.json: expected a JSON/YAML dict, found list"),
    ("report.json", '"x"', "report.json: expected a JSON/YAML dict, found str"),
    ("config.resolved.yaml", "priority_net: {batch_size: -3}\n", "config.resolved.yaml: not a config"),
    ("config.resolved.yaml", "a: [\n", "config.resolved.yaml: unreadable"),
])
def test_doctor_on_bad_run_files_is_one_line_exit_2(tmp_path, name, text, words):
    from typer.testing import CliRunner

    from ahsd_train.cli import app

    run = _run_dir(tmp_path)
    (run / name).write_text(text)
    res = CliRunner().invoke(app, ["doctor", str(run)])
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output, res.output


def test_doctor_skips_metrics_lines_that_are_not_records(tmp_path):
    from typer.testing import CliRunner

    from ahsd_train.cli import app

    run = _run_dir(tmp_path)
    (run / "metrics.jsonl").write_text('[1]\n"x"\nnot json\n')
    res = CliRunner().invoke(app, ["doctor", str(run)])
    assert res.exit_code in (0, 1) and "Traceback" not in res.output, res.output


def test_a_set_with_a_bad_index_is_one_line_exit_2(tmp_path):
    from typer.testing import CliRunner

    from ahsd_train.cli import app

    res = CliRunner().invoke(app, ["run", "--config", str(CONFIG), "--set", "priority_net.hidden_dims[abc]=1",
                                   "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "[abc] is not a list index" in res.output, res.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("where", ["a file", "read-only folder"])
def test_run_out_on_a_file_or_read_only_place_is_one_line(tmp_path, where, monkeypatch):
    from typer.testing import CliRunner

    from ahsd_train.cli import app

    if where == "a file":
        out = tmp_path / "file"
        out.write_text("x")
    else:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        out = tmp_path / "ro" / "run"
        if os.access(tmp_path / "ro", os.W_OK):
            # Root ignores the mode bits, so the kernel's answer is injected instead: every mkdir
            # below the 0555 folder fails with EACCES, as it does for any other user.
            real_mkdir = os.mkdir
            ro = str(tmp_path / "ro")

            def refusing_mkdir(path, *args, **kwargs):
                if os.fspath(path).startswith(ro + os.sep):
                    raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
                return real_mkdir(path, *args, **kwargs)

            monkeypatch.setattr(os, "mkdir", refusing_mkdir)
    res = CliRunner().invoke(app, ["run", "--config", str(CONFIG), *set_args(TINY), "--device", "cpu",
                                   "--max-steps", "1", "--out", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert len([ln for ln in res.output.splitlines() if "error" in ln]) == 1, res.output


def test_a_second_run_into_a_folder_in_use_is_refused_and_a_stale_lock_is_not(tmp_path):
    """Two `run --out X` at once both passed "X already holds a run" (neither had written run.json
    yet), then interleaved one metrics.jsonl and overwrote each other's checkpoints. The run folder's
    lock (`X.lock`, beside it) is held from the folder's choice to the run's end."""
    from ahsd_config.input.files import file_lock

    out = tmp_path / "run"
    args = ("run", "--config", str(CONFIG), *set_args(TINY), "--device", "cpu", "--max-steps", "1", "--out", str(out))
    with file_lock(out):  # another process's run holds the folder
        refused = cli(*args)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip().splitlines() == [
            f"error: {out}: another ahsd-train is writing this folder (lock {out}.lock is held); "
            "wait for it to end, or pass another --out"]
        assert not out.exists()  # nothing of the refused run was written
    with file_lock(tmp_path / "ds"):  # `data generate` into a folder another generate is writing
        refused = cli("data", "generate", "--config", str(CONFIG), "--scenarios", "8", "--out", str(tmp_path / "ds"))
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "another ahsd-train is writing this folder" in refused.stderr and not (tmp_path / "ds").exists()
    (tmp_path / "run.lock").write_text("")  # left by a killed run: a file nobody holds
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    assert not (tmp_path / "run.lock").exists()  # the holder removes its lock at the end


class _FailingFile(io.RawIOBase):
    """A file whose write past `room` bytes raises `error()`: ENOSPC as on a full disk, or the
    KeyboardInterrupt a second Ctrl-C raises wherever the main thread is."""

    def __init__(self, room: int, error) -> None:
        self.room, self.error = room, error

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            raise self.error()
        self.room -= len(data)
        return len(data)


@pytest.mark.parametrize("error", [lambda: OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt],
                         ids=["ENOSPC", "second Ctrl-C"])
@pytest.mark.parametrize("room", [0, 64, 4096, 60_000])
def test_whatever_a_checkpoint_write_raises_comes_out_of_torch_save_as_itself(room, error):
    """torch's zip writer turned the file's ENOSPC/EFBIG into `RuntimeError: [enforce fail at
    inline_container.cc]` (a traceback from `compare` under a file-size limit), and so the
    KeyboardInterrupt of a second Ctrl-C during a save (a traceback, exit 1, where 130 was due);
    wherever in the checkpoint it happens, the original exception comes out."""
    import torch

    from ahsd_train.run.checkpoint import torch_writer

    payload = {"model": {"w": torch.zeros(30_000)}, "progress": {"step": 1}}  # ~120 kB
    expected = type(error())
    with pytest.raises(expected) as info:
        torch_writer(payload)(io.BufferedWriter(_FailingFile(room, error)))
    assert type(info.value) is expected
