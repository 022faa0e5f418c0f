"""`ahsd-train run` end to end on tiny configs: learning, the recorded loss sequence, pre-run refusals,
the NaN stop, resume refusal, `--quick`, preflight and doctor."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from ahsd_config.errors import ConfigInvalid
from ahsd_train.run import trainer
from ahsd_train.cli import app
from ahsd_train.errors import PreflightError, ResumeRefused
from ahsd_train.run.observer import hooks_from_env
from test_train_support import CONFIG, PRE_FIX, TINY, cli, options, set_args

RECORDED = Path(__file__).parent / "data" / "tiny_loss_sequence.json"
N_RECORDED = 8
runner = CliRunner()


def engine_hashes() -> dict[str, str]:
    """The engine files the recorded losses depend on (a changed one explains a mismatch)."""
    import hashlib

    root = Path(trainer.__file__).parent.parent / "engine"
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest()[:16]
            for name in ("data.py", "model.py", "loss.py", "normalization.py")}


def step_losses(run_dir: Path) -> list[float]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r["loss"] for r in map(json.loads, lines) if r["kind"] == "step"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "run"
    result = trainer.run(options(out))
    return out, result


def test_tiny_run_lowers_the_loss_and_writes_the_run_directory(tiny_run):
    out, result = tiny_run
    assert not result.stopped
    epochs = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()
              if json.loads(l)["kind"] == "epoch"]
    assert len(epochs) == 3
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert epochs[-1]["val_loss"] < epochs[0]["val_loss"]
    for name in ("run.json", "config.resolved.yaml", "report.json", "checkpoints/last.pt",
                 "checkpoints/best.pt", "plots/loss_components.png", "plots/grad_norm.png",
                 "plots/lr.png", "plots/val_ranking.png"):
        assert (out / name).is_file(), name
    assert list((out / "tb").glob("events.out.tfevents.*"))
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "finished" and len(info["sha256"]) == 64 and info["forced"] is False
    step = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert set(step["components"]) == {"mse", "ranking", "uncertainty", "uncertainty_bounds",
                                       "calib_mean", "calib_max", "calib_range", "min_variance"}
    for key in ("grad_norm", "clipped", "lr", "scenarios_per_s"):
        assert key in step
    assert "kendall_tau" in epochs[0]["val"] and "snr_baseline_pairwise_accuracy" in epochs[0]["val"]


def test_tiny_run_matches_the_recorded_loss_sequence(tiny_run):
    """First steps of the seeded tiny run, recorded once with the engine of the time.

    An intended engine change (model, loss, data) changes these numbers: re-record with
    `AHSD_RECORD_LOSS=1 pytest tests/test_train_run.py -k recorded` and commit the file."""
    losses = step_losses(tiny_run[0])[:N_RECORDED]
    if os.environ.get("AHSD_RECORD_LOSS") == "1":
        RECORDED.write_text(json.dumps({"overrides": list(TINY), "torch": torch.__version__,
                                        "engine_sha256": engine_hashes(), "losses": losses}, indent=2) + "\n")
    saved = json.loads(RECORDED.read_text())
    changed = [f for f, h in engine_hashes().items() if saved.get("engine_sha256", {}).get(f) != h]
    assert losses == pytest.approx(saved["losses"], rel=1e-6, abs=1e-9), (
        f"engine files changed since the recording: {changed or 'none'}; if intended, re-record")


def test_report_maps_the_seed_checklist(tiny_run):
    report = json.loads((tiny_run[0] / "report.json").read_text())
    names = [i["name"] for i in report["checklist"]]
    assert names == ["grad_norm_below_clip", "grad_norm_typical", "clipped_fraction",
                     "loss_decreasing_smoothly", "no_nonfinite", "components_balanced",
                     "batchnorm_train_mode", "no_resets"]
    for item in report["checklist"]:
        assert {"name", "passed", "value", "threshold"} <= set(item)
    m = report["metrics"]
    assert m["split"] == "test" and -1 <= m["kendall_tau"] <= 1
    assert "snr_baseline_kendall_tau" in m and "pairwise_accuracy" in m


def test_pre_fix_config_exits_2_before_anything_is_created(tmp_path):
    out = tmp_path / "never"
    result = runner.invoke(app, ["run", "--config", str(CONFIG), "--out", str(out), *set_args(PRE_FIX)])
    assert result.exit_code == 2
    assert "AHSD101 error priority_net.batch_size = 6" in result.stderr
    assert "AHSD104 error" in result.stderr and "hint:" in result.stderr
    assert "the run was not started" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_pre_fix_config_refused_before_torch_work(monkeypatch, tmp_path):
    """The refusal happens in prepare(): no preflight, no device, no data."""
    called = []
    monkeypatch.setattr(trainer, "preflight", lambda *a: called.append("preflight"))
    monkeypatch.setattr(trainer, "resolve_device", lambda *a: called.append("device"))
    with pytest.raises(ConfigInvalid):
        trainer.run(trainer.RunOptions(config_path=CONFIG, overrides=PRE_FIX, out=tmp_path / "x"))
    assert called == [] and not (tmp_path / "x").exists()


def test_force_runs_anyway_and_records_it(tmp_path):
    out = tmp_path / "forced"
    result = trainer.run(options(out, "priority_net.min_variance_penalty_weight=40.0", force=True,
                                 max_steps=2))
    assert not result.stopped
    info = json.loads((out / "run.json").read_text())
    assert info["forced"] is True
    assert any(f["code"] == "AHSD104" and f["severity"] == "error" for f in info["findings"])
    assert "--force" in (out / "config.resolved.yaml").read_text()


def test_missing_config_is_exit_2_naming_the_path(tmp_path):
    result = runner.invoke(app, ["run", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_bad_set_syntax_is_exit_2(tmp_path):
    result = runner.invoke(app, ["run", "--config", str(CONFIG), "--set", "priority_net.batchsize=24",
                                 "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "priority_net.batch_size" in result.stderr


def test_injected_nan_stops_cleanly_with_reason_and_kept_checkpoint(tmp_path):
    out = tmp_path / "nan"
    result = runner.invoke(app, ["run", "--config", str(CONFIG), "--device", "cpu", "--out", str(out),
                                 *set_args(TINY)], env={"AHSD_TEST_INJECT_NAN_AT_STEP": "3"})
    assert result.exit_code == 1, result.stderr
    assert "step 3: non-finite loss component ranking" in result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "stopped" and "last finite values (step 2)" in report["stop_reason"]
    nonfinite = next(i for i in report["checklist"] if i["name"] == "no_nonfinite")
    assert not nonfinite["passed"] and nonfinite["value"] == 1
    payload = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert payload["progress"]["step"] == 2  # the last good state, before the failed step
    assert all(torch.isfinite(t).all() for t in payload["model"].values())


def test_skip_policy_skips_and_continues(tmp_path):
    os.environ["AHSD_TEST_INJECT_NAN_AT_STEP"] = "2"
    try:
        result = trainer.run(options(tmp_path / "skip", "monitoring.health.nonfinite_policy=skip",
                                     max_steps=4), hooks=hooks_from_env())
    finally:
        del os.environ["AHSD_TEST_INJECT_NAN_AT_STEP"]
    assert not result.stopped
    resets = next(i for i in result.report["checklist"] if i["name"] == "no_resets")
    assert not resets["passed"] and resets["value"] == 1


def test_resume_with_a_changed_learning_rate_is_refused_naming_the_key(tmp_path):
    out = tmp_path / "run"
    trainer.run(options(out, max_steps=3))
    with pytest.raises(ResumeRefused) as exc:
        trainer.run(options(out, "priority_net.learning_rate=5e-4", resume=True))
    assert exc.value.diff == [("priority_net.learning_rate", 1e-3, 5e-4)]
    result = runner.invoke(app, ["run", "--config", str(CONFIG), "--device", "cpu", "--out", str(out),
                                 "--resume", *set_args(TINY + ("priority_net.learning_rate=5e-4",))])
    assert result.exit_code == 2
    assert "priority_net.learning_rate: 0.001 -> 0.0005" in result.stderr


def test_existing_run_directory_needs_resume(tmp_path, tiny_run):
    result = runner.invoke(app, ["run", "--config", str(CONFIG), "--out", str(tiny_run[0]), *set_args(TINY)])
    assert result.exit_code == 2 and "--resume" in result.stderr


def test_preflight_is_fast_and_catches_a_head_mismatch():
    from ahsd_config.api import load_config

    cfg = load_config(CONFIG).config
    t0 = time.perf_counter()
    trainer.preflight(cfg, 12, (cfg.data.synthetic.strain_detectors, cfg.data.synthetic.strain_samples))
    assert time.perf_counter() - t0 < 5
    bad = cfg.model_copy(update={"priority_net": cfg.priority_net.model_copy(update={"attention_num_heads": 7})})
    with pytest.raises(PreflightError, match="attention_num_heads = 7"):
        trainer.preflight(bad, 12, (2, 256))
    with pytest.raises(PreflightError, match="strain"):
        trainer.preflight(cfg, 12, None)


def test_quick_end_to_end_writes_report_with_checklist(tmp_path):
    out = tmp_path / "quick"
    t0 = time.perf_counter()
    proc = cli("run", "--config", str(CONFIG), "--quick", "--device", "cpu", "--out", str(out))
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert "Verification checklist" in proc.stdout and "Gradient norm < clip" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert len(report["checklist"]) == 8 and "kendall_tau" in report["metrics"]
    plan = json.loads((out / "run.json").read_text())["plan"]
    assert plan == {"data_dir": None, "epochs": 2, "max_steps": None, "n_scenarios": 384, "n_test": 1000,
                    "quick": True}
    assert wall < 120


def test_doctor_prints_checklist_and_escalation_and_drafts_a_revision(tmp_path):
    out = tmp_path / "high"
    # a clip far below the gradient norm: every step clipped, so the doctor escalates
    trainer.run(options(out, "priority_net.gradient_clip_norm=0.001", max_steps=6))
    result = runner.invoke(app, ["doctor", str(out), "--propose-migration", "--out", str(tmp_path / "mig")])
    assert result.exit_code == 1, result.stderr  # FAIL rows (every step clipped): exit 1, draft still written
    assert "│ Few steps clipped" in result.stdout and "FAIL" in result.stdout
    text = result.stdout
    order = ["halve the learning rate: priority_net.learning_rate 1.0e-3 -> 5.0e-4",
             "normalise the loss by its components: priority_net.normalize_loss_by_components false -> true",
             "check BatchNorm is in train mode",
             "lower the uncertainty weight: priority_net.uncertainty_weight 0.15 -> 0.075",
             "lengthen the warm-up: priority_net.warmup_epochs 1 -> 5"]
    positions = [text.index(line) for line in order]
    assert positions == sorted(positions)
    drafts = list((tmp_path / "mig").glob("*.yaml"))
    assert len(drafts) == 1
    from ahsd_config.input.loader import load_file
    from ahsd_config.migrate.model import PLACEHOLDER, parse_revision

    rev = parse_revision(load_file(drafts[0]).plain(), str(drafts[0]))
    assert [c.key for c in rev.changes] == ["priority_net.learning_rate",
                                            "priority_net.normalize_loss_by_components",
                                            "priority_net.uncertainty_weight", "priority_net.warmup_epochs"]
    # the draft is computed on the head's values, not the run's --set ones: tests/test_doctor_drafts.py
    assert all(c.rationale == PLACEHOLDER for c in rev.changes)


def test_doctor_on_the_project_config_values():
    from ahsd_config.api import load_config
    from ahsd_train.review.doctor import escalation

    from ahsd_train.review.doctor import num

    lr = load_config(CONFIG).config.priority_net.learning_rate  # whatever the head holds
    fixes = [f.text for f in escalation(load_config(CONFIG).config.priority_net, None)]
    assert fixes[0] == f"halve the learning rate: priority_net.learning_rate {num(lr)} -> {num(lr / 2)}"


def test_doctor_on_a_folder_without_a_run_is_exit_2(tmp_path):
    result = runner.invoke(app, ["doctor", str(tmp_path)])
    assert result.exit_code == 2 and "not a run directory" in result.stderr


def test_a_config_behind_head_warns_and_runs(tmp_path):
    out = tmp_path / "behind"
    result = trainer.run(options(out, "revision=v13", max_steps=1))
    assert not result.stopped
    warnings = json.loads((out / "run.json").read_text())["warnings"]
    assert any("at revision v13, the head is" in w for w in warnings)


def test_bench_prints_one_json_line(monkeypatch):
    import ahsd_train.review.bench as bench

    seen = {}

    def fake(device, batch_size, with_strain, progress):
        seen.update(device=device, batch_size=batch_size)
        return {"train_scenarios_per_s": 1.0, "naive_train_scenarios_per_s": 0.1, "train_speedup": 10.0,
                "infer_signals_per_s": 5.0}

    monkeypatch.setattr(bench, "run_benchmark", fake)
    result = runner.invoke(app, ["bench", "--device", "cpu", "--json"])
    assert result.exit_code == 0 and seen == {"device": "cpu", "batch_size": 24}
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["train_speedup"] == 10.0
    assert runner.invoke(app, ["bench", "--device", "tpu"]).exit_code == 2


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_tiny_run(tmp_path):
    out = tmp_path / "cuda"
    opts = options(out, "priority_net.use_strain=true", max_steps=6)
    result = trainer.run(dataclasses.replace(opts, device="cuda"))
    assert not result.stopped
    info = json.loads((out / "run.json").read_text())
    assert info["device"].startswith("cuda")
    assert all(i["passed"] for i in result.report["checklist"] if i["name"] == "no_nonfinite")


def test_cuda_request_without_cuda_is_exit_2(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    result = runner.invoke(app, ["run", "--config", str(CONFIG), "--device", "cuda", "--out", str(tmp_path / "x"),
                                 *set_args(TINY)])
    assert result.exit_code == 2 and "no CUDA device" in result.stderr
    assert not (tmp_path / "x").exists()


def test_resume_with_more_epochs_extends_a_finished_run(tmp_path):
    out = tmp_path / "extend"
    trainer.run(options(out, epochs=1))
    result = trainer.run(options(out, epochs=2, resume=True))
    assert result.report["metrics"]["epochs"] == 2
    epochs = [r for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [0, 1]


def test_data_dir_trains_on_shards(tmp_path):
    from ahsd_config.api import load_config
    from ahsd_train.engine.data import SyntheticScenarioSource
    from ahsd_train.engine.shards import write_shards

    cfg = load_config(CONFIG, TINY).config
    batch = SyntheticScenarioSource(cfg.data, cfg.priority_net, seed=7).generate(80)
    write_shards(batch, tmp_path / "shards", shard_size=32)  # returns the manifest path
    shards = tmp_path / "shards"
    out = tmp_path / "run"
    result = trainer.run(options(out, data_dir=shards, max_steps=3))
    assert not result.stopped
    plan = json.loads((out / "run.json").read_text())["plan"]
    assert plan["data_dir"] == str(shards)
    result = runner.invoke(app, ["run", "--config", str(CONFIG), "--data", str(tmp_path / "missing"),
                                 "--out", str(tmp_path / "x"), *set_args(TINY)])
    assert result.exit_code == 2 and "missing" in result.stderr and not (tmp_path / "x").exists()


def test_preflight_checks_the_strain_shape_the_data_brings(tmp_path, monkeypatch):
    """With --data DIR the model is built for the dataset's strain (its manifest), so the preflight
    must check that shape, not the config's synthetic one (the physics shards are (3, 2048))."""
    from ahsd_config.api import load_config
    from ahsd_train.engine.data import SyntheticScenarioSource
    from ahsd_train.engine.shards import write_shards

    made = load_config(CONFIG, TINY + ("priority_net.use_strain=true", "data.synthetic.strain_detectors=3",
                                       "data.synthetic.strain_samples=128")).config
    write_shards(SyntheticScenarioSource(made.data, made.priority_net, seed=7).generate(40),
                 tmp_path / "shards", shard_size=20)
    seen, real = [], trainer.preflight
    monkeypatch.setattr(trainer, "preflight", lambda cfg, n, shape, **kw: (seen.append(shape), real(cfg, n, shape, **kw))[1])
    trainer.run(options(tmp_path / "run", "priority_net.use_strain=true", data_dir=tmp_path / "shards", max_steps=1))
    assert seen == [(3, 128)]  # the config says (2, 256)
    seen.clear()
    trainer.run(options(tmp_path / "meta", data_dir=tmp_path / "shards", max_steps=1))  # use_strain=false
    assert seen == [None]


def test_doctor_on_a_killed_run_without_report(tmp_path):
    out = tmp_path / "killed"
    trainer.run(options(out, max_steps=3))
    (out / "report.json").unlink()
    info = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({**info, "status": "running"}))
    result = runner.invoke(app, ["doctor", str(out)])
    assert result.exit_code == 1, result.stderr  # "Training continuing without resets" FAILs
    assert "Gradient norm < clip" in result.stdout
    assert "killed or crashed" in result.stdout and "--resume" in result.stdout


def test_output_and_monitoring_keys_shape_the_run_directory(tmp_path):
    full = tmp_path / "full"
    trainer.run(options(full, "monitoring.save_frequency=1", epochs=2))
    made = {p.name for p in (full / "checkpoints").iterdir()}
    assert {"best.pt", "last.pt", "epoch_0001.pt", "epoch_0002.pt"} <= made
    assert (full / "plots" / "grad_norm.png").is_file()
    out = tmp_path / "bare"
    trainer.run(options(out, "output.generate_plots=false", "output.save_best_only=false",
                        "output.save_intermediate=false", epochs=2))
    assert not (out / "plots").exists()
    assert {p.name for p in (out / "checkpoints").iterdir()} == {"last.pt", "last.prev.pt"}
