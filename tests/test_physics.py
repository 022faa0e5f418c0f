"""The physics generator (``ahsd-train data generate --physics``): LALSuite waveforms in design-PSD
noise, written as the project's shards. Runs only where the ``[physics]`` extra is installed (CI
installs it); the missing-extra message is tested everywhere."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ahsd_train.review.bench import project_config
from ahsd_train.cli import app
from ahsd_train.engine.data import SyntheticScenarioSource
from ahsd_train.errors import AhsdTrainError
from ahsd_train.engine.shards import read_shards

CFG = project_config()
REASON = "LALSuite is not installed (pip install 'ahsd[physics]'): the physics generator cannot run"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def params(**over) -> dict[str, np.ndarray]:
    """Three signals: a loud BBH, a BNS, a quiet NSBH, merging 1 s apart."""
    base = dict(mass_1=[30.0, 1.4, 10.0], mass_2=[25.0, 1.3, 1.5], chi_1=[0.3, 0.01, 0.5], chi_2=[0.1, 0.0, 0.01],
                luminosity_distance=[400.0, 100.0, 300.0], theta_jn=[0.3, 0.5, 1.0], phase=[0.0, 1.0, 2.0],
                ra=[1.0, 2.0, 3.0], dec=[0.2, -0.3, 0.5], psi=[0.1, 0.2, 0.3], geocent_time=[1.0, 2.0, 3.0])
    base.update(over)
    return {k: np.asarray(v, dtype=np.float64) for k, v in base.items()}


class NoNoise:
    def standard_normal(self, n):
        return np.zeros(n)


def test_without_the_extra_generate_says_how_to_install_and_exits_2(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "lal", None)  # `import lal` raises ImportError
    result = CliRunner().invoke(app, ["data", "generate", "--physics", "--scenarios", "2", "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "error: --physics needs LALSuite (lal is not installed): pip install 'ahsd[physics]'" in result.output
    assert not (tmp_path / "d").exists()


def test_whitened_windows_hold_unit_noise_and_the_signal_norm_is_its_snr():
    pytest.importorskip("lalsimulation", reason=REASON)
    from ahsd_train.engine.physics import scenario as sc

    quiet = sc.simulate(params(luminosity_distance=[1e7] * 3), 4.0, 20.0, np.random.default_rng(3))
    # band 20-256 Hz of a 0-256 Hz series: variance (256 - 20) / 256
    assert quiet.strain.std() == pytest.approx(np.sqrt(236 / 256), rel=0.03)
    assert quiet.snr_hat.max() < 5  # pure noise: |z| is chi with 6 degrees of freedom
    alone = sc.simulate(params(luminosity_distance=[400.0, 1e7, 1e7]), 4.0, 20.0, NoNoise())  # partners silent
    norm = np.sqrt((alone.strain[0].astype(np.float64) ** 2).sum(-1))  # (D,) the BBH's own window
    assert np.all(norm <= alone.rho_det[0] * 1.001) and np.all(norm >= 0.95 * alone.rho_det[0])  # band-limited <h, h>
    clean = sc.simulate(params(), 4.0, 20.0, NoNoise())
    peak = int(np.abs(clean.strain[0, 0]).argmax())
    w = sc.Window()
    merger = w.samples - int(w.after_merger * w.rate)
    assert abs(peak - merger) <= 0.03 * w.rate  # the merger sits where the window puts it (+ delay)
    # without noise and partners the matched filter returns the optimal SNR; partners add cross-talk
    assert alone.snr_hat[0] == pytest.approx(np.sqrt((alone.rho_det[0] ** 2).sum()), rel=1e-6)
    rho = np.sqrt((clean.rho_det**2).sum(-1))
    assert clean.snr_hat[0] == pytest.approx(rho[0], rel=0.02) and clean.snr_hat[2] != pytest.approx(rho[2], rel=0.05)
    assert np.all(clean.overlap >= 0) and np.all(clean.overlap <= 1) and np.all(np.diag(clean.overlap) == 0)


def test_snr_follows_distance_and_the_network_sees_all_three_detectors():
    pytest.importorskip("lalsimulation", reason=REASON)
    from ahsd_train.engine.physics import scenario as sc

    near = sc.simulate(params(), 4.0, 20.0, NoNoise()).rho_det
    far = sc.simulate(params(luminosity_distance=[800.0, 200.0, 600.0]), 4.0, 20.0, NoNoise()).rho_det
    assert far == pytest.approx(near / 2, rel=1e-6)
    assert near.shape == (3, 3) and np.all(near > 0)


def _generate(tmp_path, name, workers, n=4, **kw):
    from ahsd_train.engine.physics.generate import generate_physics

    return generate_physics(CFG, n, tmp_path / name, seed=7, workers=workers, shard_size=2, **kw)


def test_same_bytes_with_one_and_two_workers_and_the_trainer_reads_them(tmp_path):
    pytest.importorskip("lalsimulation", reason=REASON)
    one, two = _generate(tmp_path, "one", 1), _generate(tmp_path, "two", 2)
    files = sorted(p.name for p in one.out.iterdir())
    assert files == sorted(p.name for p in two.out.iterdir()) == [
        "generate.json", "manifest.json", "shard-00000.safetensors", "shard-00001.safetensors"]
    for f in files:
        assert (one.out / f).read_bytes() == (two.out / f).read_bytes(), f
    batch = read_shards(one.out)
    assert batch.strain is not None and tuple(batch.strain.shape[2:]) == (3, 2048)
    assert json.loads((one.out / "manifest.json").read_text())["strain_shape"] == [3, 2048]
    # the analytic generator's population: the same scenario sizes from the same seed
    analytic = SyntheticScenarioSource(CFG.data, CFG.priority_net, 7).generate(4)
    assert torch.equal(batch.n_signals, analytic.n_signals)
    assert torch.equal(batch.mask, analytic.mask[:, : batch.mask.shape[1]])
    from ahsd_train.engine.model import PriorityNet

    model = PriorityNet(CFG.priority_net, batch.features.shape[-1], (3, 2048)).eval()
    with torch.no_grad():
        out = model(batch)
    assert torch.isfinite(out.priority).all() and out.priority.shape == batch.mask.shape


def test_a_rerun_keeps_whole_shards_redoes_a_partial_one_and_refuses_another_plan(tmp_path):
    pytest.importorskip("lalsimulation", reason=REASON)
    first = _generate(tmp_path, "d", 1)
    good = {p.name: p.read_bytes() for p in first.out.iterdir()}
    (first.out / "manifest.json").unlink()  # killed before the end
    shard = first.out / "shard-00001.safetensors"
    shard.write_bytes(good[shard.name][:1000])  # a truncated shard
    calls = []
    again = _generate(tmp_path, "d", 1, on_progress=lambda done, status: calls.append((done, status)))
    assert (again.kept, again.written) == (1, 1)
    assert calls == [(2, "1 shard(s) kept"), (4, "shard 2/2")]
    assert {p.name: p.read_bytes() for p in again.out.iterdir()} == good
    with pytest.raises(AhsdTrainError, match=r"holds another dataset \(its generate.json differs in n_scenarios\)"):
        _generate(tmp_path, "d", 1, n=6)


def test_the_window_is_an_option_and_a_bad_one_is_refused_before_any_work(tmp_path):
    pytest.importorskip("lalsimulation", reason=REASON)
    from ahsd_train.engine.physics.generate import generate_physics

    short = generate_physics(CFG, 2, tmp_path / "w", seed=7, shard_size=2, window_seconds=2.0, window_rate=256)
    assert tuple(read_shards(short.out).strain.shape[2:]) == (3, 512)
    for kw, message in [({"window_seconds": 0.1}, "--window-seconds x --window-rate = 51.2 samples; it must be a whole number in [64, 16777216]"),
                        # not finite, or past any window: a message, not OverflowError/ValueError from int(round(...))
                        ({"window_seconds": 1e308}, "--window-seconds x --window-rate = inf samples; it must be a whole number in [64, 16777216]"),
                        ({"window_seconds": float("nan")}, "--window-seconds x --window-rate = nan samples; it must be a whole number in [64, 16777216]"),
                        ({"window_rate": 4096}, "--window-rate 4096 Hz: its Nyquist frequency must lie in (20, 1024] Hz"),
                        ({"window_seconds": 0.25, "window_rate": 1024}, "--window-seconds 0.25 must exceed the 0.5 s kept after the merger")]:
        with pytest.raises(AhsdTrainError) as err:
            generate_physics(CFG, 2, tmp_path / "bad", **kw)
        assert err.value.message == message
        assert not (tmp_path / "bad").exists()
    result = CliRunner().invoke(app, ["data", "generate", "--scenarios", "2", "--window-rate", "256", "--out", str(tmp_path / "a")])
    assert result.exit_code == 2 and "--window-seconds and --window-rate shape the --physics strain; add --physics" in result.output


def test_without_physics_generate_writes_the_analytic_generators_scenarios(tmp_path):
    result = CliRunner().invoke(app, ["data", "generate", "--scenarios", "8", "--shard-size", "4", "--seed", "3",
                                      "--out", str(tmp_path / "a"), "--set", "priority_net.use_strain=false"])
    assert result.exit_code == 0, result.output
    assert "8 analytic scenarios in" in result.output
    pn = CFG.priority_net.model_copy(update={"use_strain": False})
    want, got = SyntheticScenarioSource(CFG.data, pn, 3).generate(8), read_shards(tmp_path / "a")
    assert want.tensors().keys() == got.tensors().keys()
    assert all(torch.equal(want.tensors()[k], got.tensors()[k]) for k in want.tensors())


def test_a_folder_that_is_not_a_physics_dataset_is_refused(tmp_path):
    pytest.importorskip("lalsimulation", reason=REASON)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["data", "generate", "--physics", "--scenarios", "2", "--out", str(tmp_path / "mine")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'mine'} is not empty and holds no generate.json: not a physics dataset; choose another --out" in result.output
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
    (tmp_path / "mine" / "generate.json").write_text("{not json")
    result = CliRunner().invoke(app, ["data", "generate", "--physics", "--scenarios", "2", "--out", str(tmp_path / "mine")])
    assert result.exit_code == 2 and "generate.json: unreadable plan (" in result.output


def test_an_interrupt_stops_the_worker_pool_and_keeps_the_written_shards(tmp_path):
    """Ctrl-C / SIGTERM during `data generate --physics --workers 2` used to wait in the pool's
    `with` exit for every queued shard (the run went on to the end); it drops the queue now."""
    pytest.importorskip("lalsimulation", reason=REASON)
    from ahsd_train.engine.physics.generate import generate_physics

    def interrupt(done, status):
        if status.startswith("shard"):
            raise KeyboardInterrupt

    out = tmp_path / "d"
    with pytest.raises(KeyboardInterrupt):
        generate_physics(CFG, 24, out, seed=7, workers=2, shard_size=1, window_seconds=1.0, window_rate=256,
                         on_progress=interrupt)
    shards = sorted(out.glob("shard-*.safetensors"))
    assert 1 <= len(shards) < 24 and not (out / "manifest.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no worker's temp file left


def test_the_worker_pool_never_has_more_processes_than_usable_cpus(monkeypatch):
    """`--workers` takes up to 2**40 (its max is a size guard, not a machine's); the pool started
    min(workers, shards) processes, so `--workers 100000` with many small shards started that many,
    each loading LALSuite and torch. It is now capped at the CPUs this process may run on."""
    from concurrent.futures import Future

    from ahsd_train.engine.physics import generate

    started = []

    class Recording:
        def __init__(self, max_workers, **kwargs):
            started.append(max_workers)

        def submit(self, fn, *args):
            done = Future()
            done.set_result(fn(*args))
            return done

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(generate, "ProcessPoolExecutor", Recording)
    monkeypatch.setattr(generate, "build_shard", lambda *job: {"shard": job[3]})
    monkeypatch.setattr(generate, "usable_cpus", lambda: 3)
    jobs = [(None, None, None, k) for k in range(50)]
    assert sorted(k for k, _ in generate._run(jobs, 100_000)) == list(range(50))
    assert started == [3]
    assert list(generate._run(jobs[:2], 100_000)) and started == [3, 2]  # fewer shards than CPUs: one each
