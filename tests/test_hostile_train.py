"""A run directory's JSON files are read through the bounded reader: a run.json that is a FIFO,
a device or a huge file is refused at once (`ahsd-train run --resume --out DIR` with run.json ->
/dev/zero was killed by the OOM killer; hostile review after the issue 11 redesign)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ahsd_train.run import runlog
from ahsd_train.run.rundir import restartable


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_run_json_that_is_not_a_small_file_is_refused_not_read(tmp_path, kind):
    path = tmp_path / runlog.RUN_JSON
    if kind == "fifo":
        os.mkfifo(path)  # a blocking read would wait forever
    elif kind == "device":
        path.symlink_to("/dev/zero")  # an unbounded read would fill memory
    else:
        with open(path, "wb") as f:  # sparse: costs no disk
            f.truncate(runlog.MAX_JSON_BYTES + 1)
    with pytest.raises(OSError):
        runlog.read_json(path)
    assert restartable(tmp_path) is False


# ---------------------------------------------------------------- the bounded line reader
from hypothesis import given, settings, strategies as st  # noqa: E402

from ahsd_config.input.files import LineTooLong, TooLarge, read_lines_bounded  # noqa: E402

LINE_CAP = 16


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=24).map(lambda b: b.replace(b"\n", b"")), max_size=12), st.booleans())
def test_the_bounded_line_reader_gives_every_line_or_names_the_first_too_long(tmp_path_factory, lines, final_newline):
    """Whatever the content: the lines as `split` gives them while each is within the cap, and
    LineTooLong naming the first line past it (1-based), never more."""
    path = tmp_path_factory.mktemp("lines") / "log.jsonl"
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path.write_bytes(data)
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    too_long = next((i for i, line in enumerate(expected, 1) if len(line) > LINE_CAP), None)
    if too_long is None:
        assert [line for _, line in read_lines_bounded(path, LINE_CAP, 1 << 20)] == expected
    else:
        with pytest.raises(LineTooLong) as info:
            list(read_lines_bounded(path, LINE_CAP, 1 << 20))
        assert info.value.line == too_long and f"{path}:{too_long}:" in str(info.value)


def test_the_bounded_line_reader_refuses_special_and_oversized_files(tmp_path):
    fifo, big = tmp_path / "fifo", tmp_path / "big"
    os.mkfifo(fifo)
    with open(big, "wb") as f:
        f.truncate(1 << 20)  # sparse
    with pytest.raises(OSError, match="a FIFO"):
        list(read_lines_bounded(fifo, LINE_CAP, 1 << 30))
    with pytest.raises(OSError, match="a character device"):
        list(read_lines_bounded("/dev/zero", LINE_CAP, 1 << 30))
    with pytest.raises(IsADirectoryError):
        list(read_lines_bounded(tmp_path, LINE_CAP, 1 << 30))
    with pytest.raises(TooLarge):
        list(read_lines_bounded(big, 1 << 21, 1000))


# ---------------------------------------------------- every reader of metrics.jsonl is bounded
def _metrics_break(run: Path, kind: str) -> str:
    """Make run/metrics.jsonl hostile; return what the one error line must name."""
    path = run / runlog.METRICS
    if kind == "huge line":  # one record line past the cap, between good ones
        good = path.read_text().splitlines(keepends=True)
        path.write_text(good[0] + '{"kind": "step", "x": "' + "a" * runlog.MAX_LINE_BYTES + '"}\n' + "".join(good[1:]))
        return f"{path}:2: a line of more than {runlog.MAX_LINE_BYTES} bytes"
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
        return f"{path}: unreadable metrics log (is not a regular file (a FIFO))"
    if kind == "/dev/zero":
        path.symlink_to("/dev/zero")
        return f"{path}: unreadable metrics log (is not a regular file (a character device))"
    if kind == "directory":
        path.mkdir()
        return f"{path}: unreadable metrics log"
    with open(path, "wb") as f:  # "huge file": sparse, costs no disk
        f.truncate(runlog.MAX_METRICS_BYTES + 1)
    return f"{path}: {runlog.MAX_METRICS_BYTES + 1} bytes or more"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny finished run with checkpoints (trained once per module)."""
    import torch

    from ahsd_train.run import trainer
    from test_train_support import options

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("hostile") / "run"
    trainer.run(options(out, "output.generate_plots=false", max_steps=3, checkpoint_every_steps=1))
    assert (out / "checkpoints" / "last.prev.pt").is_file()
    return out


METRICS_BREAKS = ["huge line", "fifo", "/dev/zero", "directory", "huge file"]


@pytest.mark.parametrize("kind", METRICS_BREAKS)
def test_doctor_refuses_a_hostile_metrics_log_in_one_line(tmp_path, finished_run, kind):
    from typer.testing import CliRunner

    from ahsd_train.cli import app

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    words = _metrics_break(run, kind)
    res = CliRunner().invoke(app, ["doctor", str(run)])
    assert res.exit_code == 2 and res.output.strip() == f"error: {res.output.strip()[7:]}", res.output
    assert words in res.output and len(res.output.strip().splitlines()) == 1, res.output


@pytest.mark.parametrize("kind", METRICS_BREAKS)
def test_resume_refuses_a_hostile_metrics_log_before_writing_anything(tmp_path, finished_run, kind):
    from typer.testing import CliRunner

    from ahsd_train.cli import app
    from test_train_support import CONFIG, TINY, set_args

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    words = _metrics_break(run, kind)
    before = {p: p.read_bytes() for p in [run / runlog.RUN_JSON, *(run / "checkpoints").iterdir()]}
    res = CliRunner().invoke(app, ["run", "--config", str(CONFIG), *set_args(TINY), "--set",
                                   "output.generate_plots=false", "--device", "cpu", "--resume",
                                   "--max-steps", "5", "--out", str(run)])
    # the run folder's layout check (special files, folders) or the bounded reader (size, lines)
    assert res.exit_code == 2 and str(run / runlog.METRICS) in res.output, res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("error")]) == 1
    assert kind in ("fifo", "/dev/zero", "directory") or words in res.output
    assert {p: p.read_bytes() for p in before} == before  # run.json still says what it said


# ------------------------------------------- sizes the schema accepts but no machine can hold
@pytest.mark.parametrize("override, words", [
    ("priority_net.importance_hidden_dim=2147483648", "priority_net.importance_hidden_dim = 2147483648"),
    ("priority_net.n_edge_types=2147483648", "priority_net.n_edge_types = 2147483648"),
    ("priority_net.hidden_dims=[2147483648, 16]", "priority_net.hidden_dims = [2147483648, 16]"),
    ("data.synthetic.n_scenarios=2147483648", "data.synthetic.n_scenarios"),
    ("data.synthetic.test_scenarios=2147483648", "data.synthetic.n_scenarios, test_scenarios"),
    ("data.synthetic.strain_samples=2147483648", "strain_detectors, strain_samples"),
])
def test_a_run_no_machine_can_hold_is_refused_by_the_preflight_in_one_line(tmp_path, override, words):
    """They passed validation and the meta preflight, then the allocator raised a RuntimeError
    traceback (or the OOM killer came): the preflight sizes the run first."""
    from typer.testing import CliRunner

    from ahsd_train.cli import app
    from test_train_support import CONFIG, TINY, set_args

    strain = ("--set", "priority_net.use_strain=true") if "strain" in override else ()
    res = CliRunner().invoke(app, ["run", "--config", str(CONFIG), *set_args(TINY), *strain, "--set", override,
                                   "--device", "cpu", "--max-steps", "1", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "preflight failed: the run needs at least" in res.output, res.output
    assert words in res.output and "Traceback" not in res.output and not (tmp_path / "r").exists()


def test_the_memory_floor_lets_the_project_config_through():
    """A bound, not a guess: the project's own runs (full and --quick) are far below it."""
    from ahsd_config.api import load_config
    from ahsd_train.engine.normalization import FEATURE_NAMES
    from ahsd_train.run.preflight import memory_floor
    from ahsd_train.run.setup import RunOptions, make_plan
    from test_train_support import CONFIG

    cfg = load_config(CONFIG).config
    syn = cfg.data.synthetic
    for quick in (False, True):
        plan = make_plan(cfg, RunOptions(CONFIG, quick=quick))
        need = memory_floor(cfg, plan, 750_000, len(FEATURE_NAMES), (syn.strain_detectors, syn.strain_samples))
        assert 0 < sum(b for b, _ in need) < 2 << 30


# ------------------------------------------------- run folders written by older versions
def test_doctor_reads_a_run_folder_whose_resolved_config_has_string_integer_keys(tmp_path, finished_run):
    """Before 2ea7544 config.resolved.yaml was a JSON-mode dump: `per_param_tail_bounds: {'0': 3.0}`.
    doctor read it as "not a config this version can read"; the format is unambiguous, so it reads it."""
    from typer.testing import CliRunner

    from ahsd_config.api import load_config
    from ahsd_train.cli import app

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    resolved = run / runlog.RESOLVED
    config = load_config(resolved).config
    assert config.neural_posterior.flow_config.per_param_tail_bounds  # the project config has the map
    resolved.write_text(runlog.dump_yaml(config.model_dump(mode="json")))
    assert "'0': 3.0" in resolved.read_text()
    res = CliRunner().invoke(app, ["doctor", str(run)])
    assert res.exit_code in (0, 1), res.output
    assert ("note: " + str(resolved) + " was written before ahsd-train 2ea7544, with integer keys as strings "
            "(neural_posterior.flow_config.per_param_tail_bounds); read with them as integers") in res.output
    # a digit key the schema refuses for another reason is still refused, naming it
    resolved.write_text(resolved.read_text().replace("'0': 3.0", "'0': -3.0"))
    res = CliRunner().invoke(app, ["doctor", str(run)])
    assert res.exit_code == 2 and "not a config this version can read" in res.output, res.output


# ---------------------------------------------------------------- --data without a dataset
@pytest.mark.parametrize("what", ["missing", "empty folder", "interrupted", "a file"])
def test_data_without_a_manifest_names_the_command_that_makes_one(tmp_path, what):
    from ahsd_train.engine.shards import read_shards
    from ahsd_train.errors import ShardError

    ds = tmp_path / "my data"
    if what == "empty folder":
        ds.mkdir()
    elif what == "interrupted":
        ds.mkdir()
        (ds / "shard-00000.safetensors").write_bytes(b"x")
    elif what == "a file":
        ds.write_text("x")
    with pytest.raises(ShardError) as info:
        read_shards(ds)
    message = info.value.message
    assert "write_shards" not in message
    if what in ("missing", "empty folder"):
        assert f"ahsd-train data generate --out '{ds}' --scenarios N" in message
    elif what == "interrupted":
        assert "interrupted `ahsd-train data generate`; rerun it with the same arguments" in message
    else:
        assert "not a folder" in message


# ------------------------------------------------------- evaluate on a hand-edited report.json
def _nodes(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                           max_leaves=5)


@settings(max_examples=200, deadline=None)
@given(where=st.integers(min_value=0), value=JSON_VALUES)
def test_evaluate_of_any_edited_report_value_is_a_row_or_one_line(finished_run, tmp_path_factory, where, value):
    """Any value of report.json's metrics replaced by any JSON value: a table row, or one
    AhsdTrainError naming the file and the dotted key (a TypeError/ValueError before)."""
    import copy
    import json

    from ahsd_train.errors import AhsdTrainError
    from ahsd_train.review.evaluate import evaluate_runs

    report = json.loads((finished_run / runlog.REPORT).read_text())
    paths = [p for p in _nodes(report["metrics"]) if p]
    path = paths[where % len(paths)]
    edited = copy.deepcopy(report)
    node = edited["metrics"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    run = tmp_path_factory.mktemp("eval")
    (run / runlog.REPORT).write_text(json.dumps(edited))
    try:
        _, table = evaluate_runs([run])
    except AhsdTrainError as exc:
        assert str(run / runlog.REPORT) in exc.message and "\n" not in exc.message
    else:
        assert table.count("\n") == 2


# ------------------------------------------ checkpoints whose parts do not load into the run
def _other(name: str, value):
    """A well-typed checkpoint part that cannot load into the tiny run's objects."""
    import torch

    return {
        "model": {"extractor.blocks.0.proj.weight": torch.zeros(3, 3)},  # another model's shape
        "optimizer": {"state": {}, "param_groups": [{"params": [0]}]},  # another model's groups
        "plateau": {"mode": 5, "best": "x"},
        "health": {"recent_losses": "x"},
        "progress": {**value, "best_val_loss": "x"},
        "rng": {"torch": torch.zeros(3, dtype=torch.uint8)},
    }[name]


CHECKPOINT_PARTS = ["model", "optimizer", "plateau", "health", "progress", "rng"]


@pytest.mark.parametrize("part", CHECKPOINT_PARTS)
def test_a_checkpoint_part_that_does_not_load_falls_back_then_refuses_in_one_line(tmp_path, finished_run, part):
    """load_state_dict / restore_rng / from_state raised RuntimeError, KeyError or TypeError
    tracebacks; a checkpoint whose part does not fit the run is a bad checkpoint like a corrupt one."""
    import torch
    from typer.testing import CliRunner

    from ahsd_train.cli import app
    from test_train_support import CONFIG, TINY, set_args

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    ckdir = run / "checkpoints"
    for name in ("last.pt", "last.prev.pt"):
        payload = torch.load(ckdir / name, weights_only=True)
        payload[part] = _other(part, payload[part])
        torch.save(payload, ckdir / name)
    before = {p: p.read_bytes() for p in [run / runlog.RUN_JSON, *ckdir.iterdir()]}
    res = CliRunner().invoke(app, ["run", "--config", str(CONFIG), *set_args(TINY), "--set",
                                   "output.generate_plots=false", "--device", "cpu", "--resume",
                                   "--max-steps", "5", "--out", str(run)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert f"{ckdir / 'last.pt'}: does not fit this run" in res.output and "falling back to" in res.output
    assert f"and the previous one: {ckdir / 'last.prev.pt'}: does not fit this run" in res.output
    if part == "model":  # torch's header line alone ("Error(s) in loading state_dict for PriorityNet:") said nothing
        assert "PriorityNet: Missing key(s) in state_dict: " in res.output, res.output
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize("physics", [False, True])
def test_an_interrupted_data_generate_says_what_is_on_disk_exit_130(tmp_path, monkeypatch, physics):
    """It said "interrupted; nothing was started" after shards were written."""
    from typer.testing import CliRunner

    from ahsd_train import cli
    from test_train_support import CONFIG

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_generate", interrupted)
    if physics:
        monkeypatch.setattr("ahsd_train.engine.physics.require_lal", lambda: None)
    res = CliRunner().invoke(cli.app, ["data", "generate", "--config", str(CONFIG), "--scenarios", "4",
                                       "--out", str(tmp_path / "d"), *(["--physics"] if physics else [])])
    assert res.exit_code == 130 and "nothing was started" not in res.output, res.output
    assert (f"interrupted: {tmp_path / 'd'}: the shards written so far are kept; the same command finishes"
            if physics else "it holds no manifest, so it is not a dataset yet") in res.output


def test_a_run_directory_that_is_not_utf8_is_one_line_before_anything_is_written(tmp_path):
    """`--out` with non-UTF-8 bytes (a lone surrogate in Python) got a UnicodeEncodeError traceback
    from TensorBoard's writer after run.json and the resolved config were written."""
    from ahsd_train.errors import RunDirError
    from ahsd_train.run import trainer
    from test_train_support import options

    out = tmp_path / "r\udcff"
    with pytest.raises(RunDirError, match="the path holds bytes that are not UTF-8"):
        trainer.run(options(out, max_steps=1))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------- run folders in the way, failures mid-run
@pytest.mark.parametrize("name", ["run.json", "metrics.jsonl", "config.resolved.yaml", "report.json",
                                  "checkpoints", "tb", "plots", "."])
def test_a_run_folder_entry_of_the_wrong_kind_is_one_line_before_anything_is_written(tmp_path, name):
    """`--out` holding a folder where run.json/metrics.jsonl go, or a file where checkpoints/ goes,
    failed half-way: run.json already said "running" (metrics.jsonl: at open; checkpoints: at the
    first save, after training)."""
    from typer.testing import CliRunner

    from ahsd_train.cli import app
    from ahsd_train.run.rundir import LAYOUT
    from test_train_support import CONFIG, TINY, set_args

    out = tmp_path / "o"
    if name == ".":
        out.write_text("x")
    else:
        out.mkdir()
        (out / name).mkdir() if LAYOUT[name] == "file" else (out / name).write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    res = CliRunner().invoke(app, ["run", "--config", str(CONFIG), *set_args(TINY), "--device", "cpu",
                                   "--max-steps", "1", "--out", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("error")]) == 1, res.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("where", ["metrics log", "step", "checkpoint", "report"])
def test_a_run_that_fails_mid_way_says_failed_in_run_json(tmp_path, monkeypatch, where):
    """ENOSPC (or any error) after run.json said "running" left it "running" for good: doctor then
    read the run as killed, and nothing said why it ended."""
    import errno

    from ahsd_train.run import checkpoint as ckpt
    from ahsd_train.run import report, trainer
    from test_train_support import options

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device (injected)")

    target = {"metrics log": (runlog.MetricsLog, "__init__"), "step": (trainer.Trainer, "train_step"),
              "checkpoint": (ckpt, "save"), "report": (report, "write_report")}[where]
    monkeypatch.setattr(*target, full)
    out = tmp_path / "run"
    with pytest.raises(OSError):
        trainer.run(options(out, "output.generate_plots=false", max_steps=2))
    info = json.loads((out / runlog.RUN_JSON).read_text())
    assert info["status"] == "failed" and "No space left on device (injected)" in info["end_reason"]
    assert restartable(out)  # --resume starts it again (or from its checkpoint)
    if where == "step":  # doctor says why it ended (it read a "running" run as killed)
        from typer.testing import CliRunner

        from ahsd_train.cli import app

        res = CliRunner().invoke(app, ["doctor", str(out)])
        assert "stopped: the run failed: OSError: [Errno 28] No space left on device (injected)" in res.output


# ---------------------------------------------------- sizes that reach the allocator anyway
@pytest.mark.parametrize("args", [
    ["bench", "--batch-size", "999999999999", "--json"],
    ["data", "generate", "--scenarios", "1000000000000", "--out", "{tmp}/d"],
])
def test_an_allocation_the_machine_refuses_is_one_line_exit_2(tmp_path, args):
    """bench --batch-size 1e12 and data generate --scenarios 1e12 gave the allocator's RuntimeError
    traceback: the CLI's one boundary words every out-of-memory (CPU, CUDA, MemoryError)."""
    from typer.testing import CliRunner

    from ahsd_train.cli import app
    from test_train_support import CONFIG

    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] == "data":
        args += ["--config", str(CONFIG)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "error: out of memory (" in res.output and "GiB asked for at once)" in res.output


def test_only_allocation_failures_are_worded_as_out_of_memory():
    from ahsd_train.cli import out_of_memory

    assert out_of_memory(MemoryError()).startswith("out of memory: ")
    assert out_of_memory(RuntimeError("std::bad_alloc")).startswith("out of memory: ")
    assert out_of_memory(RuntimeError("shape '[2, 3]' is invalid for input of size 5")) is None


@pytest.mark.parametrize("seed, ok", [("99999999999999999999999", False), ("-5", False), (str(2**32), False),
                                      (str(2**32 - 1), True)])
def test_data_generate_takes_the_seeds_random_seed_takes(tmp_path, seed, ok):
    """--seed 1e23 gave "ValueError: Overflow when unpacking long long" from torch's generator; the
    option has the schema's random_seed range now (0 .. 2**32-1)."""
    from typer.testing import CliRunner

    from ahsd_train.cli import app
    from test_train_support import CONFIG

    res = CliRunner().invoke(app, ["data", "generate", "--config", str(CONFIG), "--set", "priority_net.use_strain=false",
                                   "--scenarios", "4", "--seed", seed, "--out", str(tmp_path / "d")])
    assert "Traceback" not in res.output and res.exit_code == (0 if ok else 2), res.output
    if not ok:
        assert "Invalid value for '--seed'" in res.output
        assert ("4294967295" if seed != "-5" else "greater than or equal to 0") in res.output


@pytest.mark.parametrize("text", ['{"n": 1' + "0" * 5000 + "}", "[" * 100_000, "\udcff", "{]"])
def test_a_hostile_generate_plan_is_one_line(tmp_path, text):
    """A physics dataset's generate.json with a 5000-digit number or nested past the parser gave a
    ValueError/RecursionError traceback on the rerun that resumes it."""
    pytest.importorskip("lalsimulation")
    from ahsd_train.engine.physics.generate import PLAN, _claim
    from ahsd_train.errors import AhsdTrainError

    (tmp_path / PLAN).write_text(text, errors="surrogateescape")
    with pytest.raises(AhsdTrainError, match="unreadable plan"):
        _claim(tmp_path, {"n": 1})


class _Marker:
    """A pickle payload that would create a file when unpickled (if anything ever unpickled it)."""

    path = ""

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_checkpoint_holding_code_is_refused_in_one_line_and_never_run(tmp_path):
    """weights_only=True refused it already; the message was torch's paragraph, which suggests
    reloading with weights_only=False."""
    import torch

    from ahsd_train.errors import CheckpointError
    from ahsd_train.run import checkpoint as ckpt

    folder, marker = tmp_path / "checkpoints", tmp_path / "EXECUTED"
    folder.mkdir()
    _Marker.path = str(marker)
    for name in ("last.pt", "last.prev.pt"):
        torch.save({"format": 1, "x": _Marker()}, folder / name)
    with pytest.raises(CheckpointError) as info:
        ckpt.load_latest(folder, lambda message: None)
    assert not marker.exists()
    message = info.value.message
    assert "\n" not in message and "weights_only=False" not in message and "refused: it holds Python objects" in message
