"""``ahsd-train data generate --physics``: physics scenarios as the project's safetensors shards.

- **Same population** as the analytic generator: ``SyntheticScenarioSource.population`` draws the
  sizes, overlap flags and true parameters from the same seed, so scenario i has the same signals
  in both datasets (``benchmarks/physics_vs_analytic.py`` compares their SNRs signal by signal).
- **Physics** per scenario (``scenario.simulate``): per-detector optimal SNRs, the matched-filter
  SNR on the noisy data, physical overlaps and whitened windows. Labels, estimates and features
  then follow the analytic generator's code (``SyntheticScenarioSource.assemble``) with those
  SNRs and overlaps, so the two datasets differ only in the physics.
- **Parallel and deterministic**: shard k (scenarios ``[k s, (k + 1) s)``) depends only on the seed,
  k and its scenarios' parameters (noise: ``numpy`` ``default_rng([seed, k])``; estimates: a torch
  generator seeded ``seed * SHARD_STRIDE + k``), so any number of worker processes writes the same bytes.
- **Resumable**: ``generate.json`` (the plan: seed, counts, population, generator settings and the
  LALSuite version) is written first; a rerun with the same plan keeps every shard that loads whole
  and carries the plan's digest, and redoes the rest; a different plan in the folder is refused.
  Every file is written atomically; the manifest last.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ahsd_config.input.files import TooLarge, atomic_write_bytes, read_bounded, sweep_stale_temps
from ahsd_train.engine import shards as sh
from ahsd_train.engine.data import Population, ScenarioBatch, SyntheticScenarioSource
from ahsd_train.errors import AhsdTrainError

from . import require_lal

PLAN = "generate.json"
PLAN_FORMAT = "ahsd-physics-plan"
MAX_PLAN_BYTES = 1 << 20
SHARD_STRIDE = 1_000_003
PARAMS = ("mass_1", "mass_2", "chi_1", "chi_2", "luminosity_distance", "theta_jn", "phase", "ra", "dec", "psi",
          "geocent_time")


@dataclass(frozen=True)
class GenerateResult:
    out: Path
    n_scenarios: int
    n_shards: int
    kept: int  # shards found complete and kept
    written: int


def plan_for(config, n_scenarios: int, seed: int, shard_size: int, window) -> dict:
    """Everything the shards' bytes depend on (a resume must match it exactly)."""
    import lal

    from . import lal_model as lm

    return {
        "format": PLAN_FORMAT, "version": 1, "seed": seed, "n_scenarios": n_scenarios, "shard_size": shard_size,
        "data": config.data.model_dump(mode="json"),
        "generator": {"approximant": lm.APPROXIMANT, "psd": lm.PSD_NAMES, "detectors": list(lm.DETECTORS),
                      "f_high": lm.F_HIGH, "window_seconds": window.seconds, "window_rate": window.rate,
                      "window_after_merger": window.after_merger, "lalsuite": lal.__version__},
    }


def digest(plan: dict) -> str:
    return hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()


def generate_physics(config, n_scenarios: int, out: str | Path, seed: int | None = None, workers: int = 1,
                     shard_size: int = 64, window_seconds: float | None = None, window_rate: int | None = None,
                     on_progress: Callable[[int, str], None] | None = None) -> GenerateResult:
    """Write ``n_scenarios`` physics scenarios to ``out`` (see the module docstring); the strain
    window defaults to ``scenario.Window()``. ``on_progress(scenarios_done, status)`` is called once
    the kept shards are known and after each shard (the CLI draws its bar from it)."""
    report = on_progress or (lambda done, status: None)
    require_lal()
    from .scenario import Window

    if n_scenarios < 1 or shard_size < 1 or workers < 1:
        raise AhsdTrainError(f"--scenarios, --shard-size and --workers must be >= 1 (got {n_scenarios}, {shard_size}, {workers})")
    window = Window(**{k: v for k, v in (("seconds", window_seconds), ("rate", window_rate)) if v is not None})
    problem = window.problem(config.data.f_low)
    if problem:
        raise AhsdTrainError(problem)
    seed = config.random_seed if seed is None else seed
    out = Path(out)
    plan = plan_for(config, n_scenarios, seed, shard_size, window)
    sh.refuse_unreplaceable(out, [PLAN, sh.MANIFEST])  # written first and last: checked before any shard
    _claim(out, plan)
    sweep_stale_temps(out)  # temp files of a killed run: the partial shards it left
    meta = {"plan": digest(plan)}
    pop = _population(config, n_scenarios, seed)
    starts = list(range(0, n_scenarios, shard_size))
    entries: dict[int, dict] = {}
    todo = []
    for k, start in enumerate(starts):
        n = min(shard_size, n_scenarios - start)
        entry = sh.complete_shard(out / sh.shard_name(k), n, meta)
        if entry is not None:
            entries[k] = entry
        else:
            todo.append(_job(config, pop, seed, k, start, n, out, meta, window))
    kept = len(entries)
    done = sum(e["n_scenarios"] for e in entries.values())
    report(done, f"{kept} shard(s) kept")
    for k, entry in _run(todo, workers):
        entries[k] = entry
        done += entry["n_scenarios"]
        report(done, f"shard {k + 1}/{len(starts)}")
    sh.write_manifest(out, [entries[k] for k in range(len(starts))], list(sh.FIELDS), [3, window.samples])
    return GenerateResult(out, n_scenarios, len(starts), kept, len(todo))


def _claim(out: Path, plan: dict) -> None:
    """Write the plan, or check that the folder's plan is this one."""
    path = out / PLAN
    if path.exists():
        try:
            old = json.loads(read_bounded(path, MAX_PLAN_BYTES).decode("utf-8"))
        except (OSError, TooLarge, ValueError, RecursionError) as e:  # ValueError: UTF-8, JSON, a 5000-digit int
            raise AhsdTrainError(f"{path}: unreadable plan ({e}); delete the folder or choose another --out") from None
        if old != plan:
            keys = sorted(k for k in set(old) | set(plan) if old.get(k) != plan.get(k)) if isinstance(old, dict) else ["?"]
            raise AhsdTrainError(f"{out} holds another dataset (its {PLAN} differs in {', '.join(keys)}); "
                                 "choose another --out, or delete it to start over")
        return
    if out.exists() and any(out.iterdir()):
        raise AhsdTrainError(f"{out} is not empty and holds no {PLAN}: not a physics dataset; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(plan, indent=2, sort_keys=True) + "\n").encode())


def _population(config, n: int, seed: int) -> Population:
    source = SyntheticScenarioSource(config.data, config.priority_net, seed)
    g = torch.Generator().manual_seed(source.seed)
    return source.population(n, g)


def _job(config, pop: Population, seed: int, k: int, start: int, n: int, out: Path, meta: dict, window) -> tuple:
    sl = slice(start, start + n)
    params = {name: pop.p[name][sl].numpy() for name in pop.p}
    return (config.data, config.priority_net, seed, k, params, pop.n_signals[sl].numpy(), str(out / sh.shard_name(k)),
            meta, window)


def usable_cpus() -> int:
    """The CPUs this process may run on (a batch job's cgroup or `taskset`, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS)
        return os.cpu_count() or 1


def _run(jobs: list[tuple], workers: int):
    """``(k, entry)`` per job as they finish: in this process (one worker) or in a spawned pool."""
    if workers == 1 or len(jobs) <= 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for job in jobs:
                yield job[3], build_shard(*job)
        finally:
            torch.set_num_threads(threads)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # never fork a process that has run torch's thread pools
    # never more processes than CPUs: each loads LALSuite and torch (~0.3 GB), and `--workers 100000`
    # on a login node would otherwise start that many; the bytes do not depend on the count
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs), usable_cpus()), mp_context=ctx,
                               initializer=_worker_init)
    try:
        futures = {pool.submit(build_shard, *job): job[3] for job in jobs}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
    except BaseException:
        # Ctrl-C, SIGTERM or a failed shard: drop the queued shards (`with` would wait for every
        # one of them, so an interrupted run went on to the end); shards written so far are kept
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _worker_init() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


def build_shard(data_cfg, pn_cfg, seed: int, k: int, params: dict[str, np.ndarray], n_signals: np.ndarray,
                path: str, meta: dict, window) -> dict:
    """Simulate shard ``k``'s scenarios and write it; returns its manifest entry."""
    batch = simulate_batch(data_cfg, pn_cfg, seed, k, params, n_signals, window)
    return sh.write_shard(batch, Path(path), meta)


def simulate_batch(data_cfg, pn_cfg, seed: int, k: int, params: dict[str, np.ndarray], n_signals: np.ndarray,
                   window) -> ScenarioBatch:
    """Scenarios ``params`` (name -> ``(B, S)``, padding slots ignored) through the physics, then the
    analytic generator's labels, estimates and features."""
    from . import scenario as sc

    B, S = n_signals.shape[0], params["mass_1"].shape[1]
    D, T = 3, window.samples
    rng = np.random.default_rng([seed, k])
    rho_det, snr_hat = np.zeros((B, S, D)), np.zeros((B, S))
    overlap, strain = np.zeros((B, S, S)), np.zeros((B, S, D, T), dtype=np.float32)
    for b in range(B):
        n = int(n_signals[b])
        ph = sc.simulate({name: params[name][b, :n] for name in PARAMS}, data_cfg.synthetic.segment_seconds,
                         data_cfg.f_low, rng, window)
        rho_det[b, :n], snr_hat[b, :n], overlap[b, :n, :n], strain[b, :n] = ph.rho_det, ph.snr_hat, ph.overlap, ph.strain
    source = SyntheticScenarioSource(data_cfg, pn_cfg, seed)
    t = {name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in params.items()}
    nsig = torch.from_numpy(n_signals)
    mask = torch.arange(S) < nsig.unsqueeze(-1)
    g = torch.Generator().manual_seed(seed * SHARD_STRIDE + k)
    batch = source.assemble(Population(t, mask, nsig), torch.from_numpy(rho_det), torch.from_numpy(overlap), g,
                            snr_hat=torch.from_numpy(snr_hat))
    from dataclasses import replace

    batch = replace(batch, strain=torch.from_numpy(strain))
    return batch.trim(max(int(nsig.max()), 1))
