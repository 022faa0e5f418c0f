"""`ahsd-train run`: pre-run checks, then a health-watched training loop that reads top to bottom.

    prepare()    load -> --set overrides -> behind-head warning -> validate   (no torch work yet)
    preflight()  PriorityNet on the meta device + one batch of shapes         (~1 s, any machine)
    train()      device, data, model, optimizer, schedulers, [resume], then per step:
                   lr -> eval/checkpoint -> forward/backward -> clip -> step -> log

Configuration flows once: the validated, frozen `TrainingConfig` is passed into the constructors
(`PriorityNet(cfg.priority_net, ...)`, `PriorityLoss(cfg.priority_net)`, the optimizer and the
schedulers below). Run-length options (`--quick`, `--epochs`, `--max-steps`) do not change the
config; they are recorded as run options next to it.

Rendering lives in the CLI: the loop reports through an `Observer` (progress bar, warnings).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import random
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import torch

from ahsd_config.errors import ConfigInvalid
from ahsd_config.schema import TrainingConfig
from ahsd_train.run import checkpoint as ckpt
from ahsd_train.run import distributed as ddp
from ahsd_train.run import health as hm
from ahsd_train.run import runlog
from ahsd_train.errors import AhsdTrainError
from ahsd_train.run.progress import NO_PROGRESS, Progress
from ahsd_train.trainer_errors import DeviceUnavailable, PreflightError, RunDirError, RunInterrupted

DEFAULT_CONFIG = Path("configs/enhanced_training.yaml")
QUICK_SCENARIOS = 384  # --quick: a few hundred scenarios ...
QUICK_EPOCHS = 2  # ... for 2 epochs: under a minute on two CPU cores
EVAL_CHUNK = 256  # scenarios per forward pass in evaluation
TEST_HOOK_ENV = "AHSD_TEST_INJECT_NAN_AT_STEP"


# === options, results, observer ==================================================================


@dataclass(frozen=True)
class RunOptions:
    """Everything `ahsd-train run` was asked for (the CLI's flags, as data)."""

    config_path: Path = DEFAULT_CONFIG
    overrides: tuple[str, ...] = ()
    device: str | None = None  # auto | cuda | cpu; None = the config's `device`
    out: Path | None = None
    resume: bool = False
    quick: bool = False
    force: bool = False
    data_dir: Path | None = None
    create_overlaps: bool | None = None
    epochs: int | None = None
    max_steps: int | None = None
    checkpoint_every_steps: int | None = None
    argv: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """A config that may run: the frozen model plus where it came from."""

    config: TrainingConfig
    path: str
    sha256: str
    revision: str | None
    findings: list[dict[str, Any]]  # warnings/info kept for run.json (errors too when forced)
    warnings: list[str]
    forced: bool


@dataclass
class RunResult:
    run_dir: Path
    report: dict[str, Any]
    stop_reason: str | None  # a health stop (exit 1); None for a clean finish

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None


class Observer:
    """What the loop tells the outside world; the CLI renders it (rich), tests may record it."""

    progress: Progress = NO_PROGRESS  # bars for data, steps and evaluation (ahsd_train.progress)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    def info(self, message: str) -> None:
        print(message, file=sys.stderr)

    def start(self, run_dir: Path, total_steps: int, done_steps: int, steps_per_epoch: int = 0) -> None: ...

    def step(self, record: dict[str, Any]) -> None: ...

    def epoch(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class _Silent(Observer):
    def warn(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...


@dataclass
class TrainHooks:
    """Test seams; `after_loss(step, loss) -> loss` may replace a step's LossResult."""

    after_loss: Callable[[int, Any], Any] | None = None


def hooks_from_env() -> TrainHooks:
    """The ONE place the test hook is read: `AHSD_TEST_INJECT_NAN_AT_STEP=N` makes the `ranking`
    component (and so the total loss) NaN at global step N, to exercise the non-finite path."""
    raw = os.environ.get(TEST_HOOK_ENV)
    if not raw:
        return TrainHooks()
    at = int(raw)

    def inject(step: int, loss):
        if step != at:
            return loss
        nan = torch.full_like(loss.components["ranking"], float("nan"))
        components = {**loss.components, "ranking": nan}
        weighted = {**loss.weighted, "ranking": nan}
        return dataclasses.replace(loss, total=loss.total + nan, components=components, weighted=weighted)

    return TrainHooks(after_loss=inject)


# === pre-run: load -> overrides -> behind head -> validate ===========================================


def prepare(opts: RunOptions) -> Prepared:
    """Validate the config before anything touches a model, data or device.

    Error findings raise `ConfigInvalid` (the CLI prints them, exit 2) unless `opts.force`."""
    overrides = list(opts.overrides)
    if opts.create_overlaps is not None:
        overrides.append(f"data.synthetic.create_overlaps={'true' if opts.create_overlaps else 'false'}")
    loaded = _load_config(opts.config_path, tuple(overrides), opts.force)
    warnings = [w for w in [behind_head_warning(loaded)] if w]
    findings = [_finding_json(f) for f in _findings(loaded)]
    errors = [f for f in findings if f["severity"] == "error"]
    config = loaded.config
    if config is None:  # --force cannot build a config the schema rejects
        raise ConfigInvalid(f"{opts.config_path}: the schema rejects it, so even --force cannot run it",
                            loaded.reports)
    if errors:
        warnings.append(f"--force: running despite {len(errors)} error finding(s); recorded in run.json")
    warnings += [f"{loaded.path}:{f['line']}:{f['column']} {f['code']} {f['severity']} {f['message']}"
                 for f in findings if f["severity"] == "warning"]
    return Prepared(config, str(opts.config_path), loaded.sha256, loaded.revision or config.revision,
                    findings, warnings, forced=bool(errors))


@dataclass
class _Loaded:
    config: TrainingConfig | None
    reports: list
    path: str
    sha256: str
    revision: str | None


def _load_config(path: Path, overrides: tuple[str, ...], force: bool) -> _Loaded:
    """`ahsd_config.api.load_config`; with `force`, a config with error findings is still built
    (when the schema accepts it) so the run can go ahead and record that it did."""
    from ahsd_config.api import load_config

    loaded = load_config(path, overrides, refuse_errors=not force)
    return _Loaded(loaded.config, [loaded.report], str(path), loaded.sha256, loaded.revision)


def _findings(loaded: _Loaded) -> list:
    return [f for report in loaded.reports for f in getattr(report, "findings", ())]


def _finding_json(f) -> dict[str, Any]:
    return {k: getattr(f, k, None) for k in ("code", "severity", "message", "key", "line", "column", "hint")}


def behind_head_warning(loaded) -> str | None:
    """"Config at revision X, head is Y": a warning, never an error. None when the migrations
    package or its chain cannot tell (absent, empty, several heads) or the file has no stamp
    (that is the validator's AHSD001 warning)."""
    revision = getattr(loaded, "revision", None)
    if revision is None:
        return None
    try:
        from ahsd_config.migrate.store import load_map

        head = load_map().head
    except Exception:  # no chain, a broken one, or no migrations package: `ahsd-config ci` reports it
        return None
    if revision == head:
        return None
    return (f"{loaded.path}: the config is at revision {revision}, the head is {head}; "
            f"run `ahsd-config migrate {loaded.path} --to head` (running it as it is)")


# === preflight ====================================================================================


def preflight(config: TrainingConfig, n_features: int, strain_shape: tuple[int, int] | None) -> None:
    """Build PriorityNet on the meta device and push one batch of shapes through it (forward, loss,
    backward): a shape or head mismatch fails here in about a second, with no memory allocated and
    no device started."""
    import torch.fx.experimental._config as fx_config

    from ahsd_train.engine.loss import PriorityLoss
    from ahsd_train.engine.model import PriorityNet

    pn, syn = config.priority_net, config.data.synthetic
    B, S = 2, max(2, min(syn.max_signals, 4))
    try:
        with fx_config.patch(meta_nonzero_assume_all_nonzero=True), torch.device("meta"):
            model = PriorityNet(pn, n_features, strain_shape)
            batch = SimpleNamespace(
                features=torch.zeros(B, S, n_features), mask=torch.ones(B, S, dtype=torch.bool),
                priority=torch.zeros(B, S), snr=torch.ones(B, S), snr_estimate=torch.ones(B, S),
                edge_type=torch.ones(B, S, dtype=torch.long), n_signals=torch.full((B,), S),
                strain=torch.zeros(B, S, *strain_shape) if strain_shape else None,
            )
            out = model(batch)
            PriorityLoss(pn, check_finite=False)(out, batch).total.backward()
    except AhsdTrainError as exc:
        raise PreflightError(exc.message) from None
    except (RuntimeError, ValueError, IndexError, TypeError, NotImplementedError) as exc:
        raise PreflightError(f"{type(exc).__name__}: {exc}") from None
    if tuple(out.priority.shape) != (B, S) or tuple(out.uncertainty.shape) != (B, S):
        raise PreflightError(f"the heads return {tuple(out.priority.shape)}, expected {(B, S)}")


# === device, data, plan ============================================================================


def resolve_device(requested: str, ctx: ddp.DistContext) -> torch.device:
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "mps":
        raise DeviceUnavailable("device 'mps' is not supported by ahsd-train; use --device cpu or cuda")
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable("--device cuda: no CUDA device is available; use --device cpu or auto")
        return torch.device("cuda", ctx.local_rank)
    return torch.device("cpu")


@dataclass(frozen=True)
class Plan:
    """Run length and data size: from the config, shortened by --quick / --epochs / --max-steps."""

    n_scenarios: int
    n_test: int  # synthetic test scenarios (their own seed); --data shards split instead
    epochs: int
    max_steps: int | None
    quick: bool
    data_dir: str | None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    def data_json(self) -> str:
        """What makes the data: a resume must see the same (run length may change: --epochs)."""
        return json.dumps({"n_scenarios": self.n_scenarios, "data_dir": self.data_dir}, sort_keys=True)


def make_plan(config: TrainingConfig, opts: RunOptions) -> Plan:
    from ahsd_train.engine.benchmark import QUICK_TEST_SCENARIOS

    n, n_test = config.data.synthetic.n_scenarios, config.data.synthetic.test_scenarios
    epochs = config.priority_net.epochs
    if opts.quick:
        n, epochs = min(n, QUICK_SCENARIOS), min(epochs, QUICK_EPOCHS)
        n_test = min(n_test, QUICK_TEST_SCENARIOS)
    if opts.epochs is not None:
        epochs = opts.epochs
    return Plan(n, n_test, epochs, opts.max_steps, opts.quick, str(opts.data_dir) if opts.data_dir else None)


@dataclass
class Splits:
    train: Any
    val: Any
    test: Any


def load_data(config: TrainingConfig, plan: Plan, device: torch.device) -> tuple[Splits, tuple | None]:
    """Synthetic scenarios (the default; the test set from its own seed) or `--data DIR` shards,
    split train/val/test."""
    from ahsd_train.engine.benchmark import test_set
    from ahsd_train.engine.data import SyntheticScenarioSource, split

    strain_shape = None
    if plan.data_dir:
        from ahsd_train.engine.shards import read_shards

        data = read_shards(plan.data_dir).to(device)
        if config.priority_net.use_strain and data.strain is not None:
            strain_shape = tuple(data.strain.shape[2:])
    else:
        source = SyntheticScenarioSource(config.data, config.priority_net, config.random_seed, device)
        data, strain_shape = source.generate(plan.n_scenarios), source.strain_shape
        train, val, _ = split(data, config.data.validation_split, 0.0)
        return Splits(train, val, test_set(config, plan.n_test, device)), strain_shape
    train, val, test = split(data, config.data.validation_split, config.data.test_split)
    return Splits(train, val, test), strain_shape


def epoch_order(n: int, seed: int, epoch: int, ctx: ddp.DistContext) -> torch.Tensor:
    """This rank's scenario order for `epoch`: a pure function of (seed, epoch), so a resume mid-epoch
    sees exactly the batches an uninterrupted run would."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return ddp.shard_indices(torch.randperm(n, generator=g), ctx)


def seed_everything(seed: int, device: torch.device) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)


# === optimizer and schedulers ======================================================================


def build_optimizer(pn, params) -> torch.optim.Optimizer:
    """AdamW (decoupled weight decay) or Adam (L2 added to the gradient): `priority_net.optimizer`."""
    opt = {"AdamW": torch.optim.AdamW, "Adam": torch.optim.Adam}[pn.optimizer]
    # fused: one kernel for the whole update instead of ~10 per tensor (AdamW's step was a fifth
    # of a CPU train step at batch 24); the benchmark times the same optimizer.
    return opt(params, lr=pn.learning_rate, weight_decay=pn.weight_decay, fused=True)


def build_schedulers(pn, optimizer, steps_per_epoch: int):
    """Linear warm-up over `warmup_epochs` (stepped per optimizer step), then ReduceLROnPlateau on the
    validation loss (stepped per epoch once warm-up is over)."""
    warmup_steps = pn.warmup_epochs * steps_per_epoch
    warmup = torch.optim.lr_scheduler.LinearLR(
        optimizer, start_factor=pn.warmup_start_factor if warmup_steps else 1.0,
        end_factor=1.0, total_iters=max(warmup_steps, 1))
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=pn.scheduler_factor, patience=pn.scheduler_patience,
        threshold=pn.scheduler_threshold, threshold_mode="rel", min_lr=pn.min_lr)
    return warmup, plateau, warmup_steps


def early_stopping_due(bad_epochs: int, pn, monitoring) -> bool:
    """Stop after `patience` epochs without validation improvement, when early stopping is on."""
    return monitoring.early_stopping and bad_epochs > 0 and bad_epochs >= pn.patience


# === evaluation ===================================================================================


@torch.no_grad()
def evaluate_split(model, loss_fn, data, autocast, progress: Progress = NO_PROGRESS,
                   label: str = "evaluating") -> dict[str, Any]:
    """Mean loss (weighted by scenarios), each component, and the engine's ranking metrics."""
    from ahsd_train.engine.metrics import evaluate

    if data is None or len(data) == 0:
        return {}
    with progress.task(label, total=len(data)) as bar:
        return _evaluate_chunks(model, loss_fn, data, autocast, bar, evaluate)


def _evaluate_chunks(model, loss_fn, data, autocast, bar, evaluate) -> dict[str, Any]:
    model.eval()
    width = data.features.shape[1]
    preds, uncs, total, comps = [], [], 0.0, {}
    for start in range(0, len(data), EVAL_CHUNK):
        chunk = data.slice(slice(start, start + EVAL_CHUNK))
        with autocast():
            out = model(chunk)
        out = _float_output(out)
        res = loss_fn(out, chunk)
        n = len(chunk)
        total += float(res.total) * n
        for k, v in res.components.items():
            comps[k] = comps.get(k, 0.0) + float(v) * n
        preds.append(_pad(out.priority, width))
        uncs.append(_pad(out.uncertainty, width))
        bar.update(advance=n)
    model.train()
    n = len(data)
    metrics = evaluate(torch.cat(preds), data, torch.cat(uncs))
    return {"loss": total / n, "components": {k: v / n for k, v in comps.items()}, **metrics}


def _pad(x: torch.Tensor, width: int) -> torch.Tensor:
    return torch.nn.functional.pad(x, (0, width - x.shape[1]))  # (B, S) -> (B, width)


def _float_output(out):
    """bf16 autocast outputs -> fp32 before the loss (the loss's reductions want fp32)."""
    return dataclasses.replace(out, priority=out.priority.float(), uncertainty=out.uncertainty.float(),
                               raw=out.raw.float())


# === the run ======================================================================================


def runs_root() -> Path:
    """`runs/` at the project root (found like git finds its root), so a run started from a
    subfolder lands where the others are; `runs/` here outside a project."""
    from ahsd_config.input.project import find_project

    project = find_project()
    if project is None:
        return Path("runs")
    try:
        return (project.root / "runs").relative_to(Path.cwd().resolve())
    except ValueError:
        return project.root / "runs"


def default_run_dir(config: TrainingConfig) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return runs_root() / f"{config.experiment_name}-{stamp}"


def choose_run_dir(opts: RunOptions, config: TrainingConfig, ctx: ddp.DistContext) -> Path:
    """`--out`, or `runs/<experiment>-<time>` (rank 0 decides), or the newest such run on --resume."""
    if opts.out is not None:
        run_dir = opts.out
    elif opts.resume:
        runs = sorted(runs_root().glob(f"{config.experiment_name}-*"))
        if not runs:
            raise RunDirError(f"--resume: no run of '{config.experiment_name}' under {runs_root()}/; pass --out RUN_DIR")
        run_dir = runs[-1]
    else:
        run_dir = default_run_dir(config)
        if ctx.enabled:
            holder = [str(run_dir)]
            torch.distributed.broadcast_object_list(holder, src=0)
            run_dir = Path(holder[0])
    exists = (run_dir / runlog.RUN_JSON).exists()
    if opts.resume and not ckpt.has_checkpoint(run_dir / runlog.CHECKPOINTS) and not _restartable(run_dir):
        raise RunDirError(f"--resume: {run_dir} holds no checkpoint to resume from"
                          + ("" if exists else " and no run.json (is it a run directory?)"))
    if exists and not opts.resume and not opts.force and ctx.is_main:
        raise RunDirError(f"{run_dir} already holds a run; pass --resume to continue it, or another --out")
    return run_dir


# Set by the CLI's SIGINT/SIGTERM handler; the loop stops at the next step boundary.
STOP = threading.Event()


def _restartable(run_dir: Path) -> bool:
    """A run interrupted (or killed) before its first checkpoint: --resume starts it again there."""
    try:
        status = runlog.read_json(run_dir / runlog.RUN_JSON).get("status")
    except Exception:  # noqa: BLE001 - a missing or unreadable run.json is simply not restartable
        return False
    return status in ("interrupted", "running")


def run(opts: RunOptions, observer: Observer | None = None, hooks: TrainHooks | None = None) -> RunResult:
    """`ahsd-train run`: prepare -> preflight -> train. Raises AhsdTrainError / ConfigInvalid."""
    ctx = ddp.from_env()
    observer = observer or Observer()
    if not ctx.is_main:  # one voice: only rank 0 reports
        observer = _Silent()
    prepared = prepare(opts)
    for w in prepared.warnings:
        observer.warn(w)
    config = prepared.config
    plan = make_plan(config, opts)
    from ahsd_train.engine.normalization import FEATURE_NAMES

    syn = config.data.synthetic
    strain_shape = (syn.strain_detectors, syn.strain_samples) if config.priority_net.use_strain else None
    preflight(config, len(FEATURE_NAMES), strain_shape)
    device = resolve_device(opts.device or config.device, ctx)
    ddp.init(ctx, device)
    try:
        return Trainer(opts, prepared, plan, ctx, device, observer, hooks or TrainHooks()).train()
    finally:
        ddp.shutdown(ctx)


class Trainer:
    """State of one run; `train()` is the loop. Split into methods only where a phase is long."""

    def __init__(self, opts, prepared: Prepared, plan: Plan, ctx, device, observer, hooks) -> None:
        self.opts, self.prepared, self.plan = opts, prepared, plan
        self.cfg, self.pn = prepared.config, prepared.config.priority_net
        self.ctx, self.device, self.obs, self.hooks = ctx, device, observer, hooks
        self.config_json = self.cfg.model_dump_json()
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else nullcontext
        self.run_dir = choose_run_dir(opts, self.cfg, ctx)
        self.ckpt_dir = self.run_dir / runlog.CHECKPOINTS
        # --resume of a run interrupted before its first checkpoint starts it again in its folder
        self.resume = opts.resume and ckpt.has_checkpoint(self.ckpt_dir)
        if opts.resume and not self.resume and ctx.is_main:
            observer.warn(f"--resume: {self.run_dir} was interrupted before its first checkpoint; "
                          "starting it again from step 0 in the same folder")
        w = ddp.world_size_warning(self.pn.world_size, ctx)
        if w and ctx.is_main:
            observer.warn(w)

    # --- setup ---------------------------------------------------------------------------------

    def build(self) -> None:
        from ahsd_train.engine.loss import PriorityLoss
        from ahsd_train.engine.model import PriorityNet

        seed_everything(self.cfg.random_seed, self.device)
        self.data, strain_shape = load_data(self.cfg, self.plan, self.device)
        self.raw_model = PriorityNet(self.pn, self.data.train.features.shape[-1], strain_shape).to(self.device)
        note = ddp.sync_batchnorm_note(self.pn.sync_batchnorm, self.raw_model.has_batchnorm(), self.ctx, self.device)
        if note:
            self.obs.warn(note)
        # the importance MLP is idle when overlaps are averaged: DDP must then look for unused params
        self.model = ddp.wrap(self.raw_model, self.ctx, self.device, self.pn.sync_batchnorm,
                              find_unused=not self.pn.overlap_use_attention)
        self.model.train()
        torch.manual_seed(self.cfg.random_seed + self.ctx.rank)  # dropout streams differ per replica
        self.loss_fn = PriorityLoss(self.pn, check_finite=False)  # non-finite handling is health's job
        self.optimizer = build_optimizer(self.pn, self.model.parameters())
        self.batch = ddp.per_replica_batch(self.pn.batch_size, self.ctx)
        n_local = len(epoch_order(len(self.data.train), 0, 0, self.ctx))
        self.steps_per_epoch = max(1, -(-n_local // self.batch))
        self.warmup, self.plateau, self.warmup_steps = build_schedulers(self.pn, self.optimizer, self.steps_per_epoch)
        self.monitor = hm.HealthMonitor(self.cfg.monitoring.health, self.pn.gradient_clip_norm)
        self.progress = {"epoch": 0, "batch": 0, "step": 0, "best_val_loss": float("inf"),
                         "bad_epochs": 0, "early_stopped": False, "sums": {}}

    def restore(self) -> None:
        """--resume: latest good checkpoint, same config (or --force), every state exactly."""
        # on CPU first: RNG states must stay CPU tensors; load_state_dict moves the rest to the device
        payload, fell_back = ckpt.load_latest(self.ckpt_dir, self.obs.warn, map_location="cpu")
        diff = ckpt.check_resume_config(str(self.ckpt_dir), payload, self.config_json,
                                        self.plan.data_json(), self.opts.force)
        if diff:
            self.obs.warn("--force: resuming with a changed config: " +
                          ", ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in diff))
        self.raw_model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.warmup.load_state_dict(payload["warmup"])
        self.plateau.load_state_dict(payload["plateau"])
        self.monitor.state = hm.HealthState.from_state(payload["health"])
        self.monitor.state.n_fallbacks += int(fell_back)
        self.progress = dict(payload["progress"])
        ckpt.restore_rng(payload["rng"])

    def save(self, *, best: bool = False, epoch_end: int | None = None) -> None:
        if not self.ctx.is_main:
            return
        out = self.cfg.output
        intermediate = (epoch_end if epoch_end is not None and out.save_intermediate
                        and epoch_end % self.cfg.monitoring.save_frequency == 0 else None)
        ckpt.save(self.ckpt_dir, {
            "model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "warmup": self.warmup.state_dict(), "plateau": self.plateau.state_dict(),
            "rng": ckpt.capture_rng(), "progress": dict(self.progress),
            "health": self.monitor.state.to_state(), "config_json": self.config_json,
            "run_options_json": self.plan.data_json(),
        }, best=best, intermediate_epoch=intermediate)
        self.last_saved_step = self.progress["step"]

    def write_run_json(self, status: str, extra: dict | None = None) -> None:
        if not self.ctx.is_main:
            return
        p = self.prepared
        info = {
            "status": status, "command": list(self.opts.argv), "config_path": p.path,
            "revision": p.revision, "sha256": p.sha256,
            "resolved_sha256": hashlib.sha256(self.config_json.encode()).hexdigest(),
            "forced": p.forced, "warnings": p.warnings, "findings": p.findings, "plan": json.loads(self.plan.to_json()),
            "device": str(self.device), "world_size": self.ctx.world_size,
            "torch": torch.__version__, "has_batchnorm": self.raw_model.has_batchnorm(),
            "started": getattr(self, "started", None), **(extra or {}),
        }
        runlog.write_json(self.run_dir / runlog.RUN_JSON, info)

    # --- the loop ------------------------------------------------------------------------------

    def describe(self) -> str:
        """What is about to run, said before anything slow starts (data, model, first step)."""
        p = self.plan
        length = f"{p.epochs} epoch(s)" + (f", at most {p.max_steps} steps" if p.max_steps else "")
        data = f"shards in {p.data_dir}" if p.data_dir else f"{p.n_scenarios:,} synthetic scenarios"
        return (f"training {self.prepared.path}" + (f" ({self.prepared.revision})" if self.prepared.revision else "")
                + f": {length}, {data}, batch {self.pn.batch_size}, device {self.device}"
                + (" (--quick)" if p.quick else "") + f" -> {self.run_dir}")

    def train(self) -> RunResult:
        self.obs.info(self.describe())
        with self.obs.progress.task("preparing data and model"):
            self.build()
        if self.resume:
            self.restore()
        self.started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        log = None
        if self.ctx.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            runlog.atomic_write_text(self.run_dir / runlog.RESOLVED, _resolved_yaml(self.prepared))
            self.write_run_json("running")
            log = runlog.MetricsLog(self.run_dir, self.progress["step"] if self.resume else None)
        self.last_saved_step = self.progress["step"] if self.resume else -1
        total_steps = self.plan.epochs * self.steps_per_epoch
        if self.plan.max_steps is not None:
            total_steps = min(total_steps, self.plan.max_steps)
        self.obs.start(self.run_dir, total_steps, self.progress["step"], self.steps_per_epoch)
        stop_reason, end_reason = None, "completed"
        try:
            try:
                stop_reason, end_reason = self.loop(log)
            finally:
                self.obs.close()
            return self.finish(log, stop_reason, end_reason)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into the same)
            raise self.interrupted(log) from None

    def interrupted(self, log) -> RunInterrupted:
        """Record the interruption in run.json and say what is true about resuming."""
        if log is not None:
            log.close()
        last = ckpt.newest_step(self.ckpt_dir)
        self.write_run_json("interrupted", {
            "end_reason": "interrupted", "checkpoint_step": last,
            "interrupted": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
        again = f"the same command plus `--resume --out {self.run_dir}`"
        if last is None:
            return RunInterrupted(f"interrupted at step {self.progress['step']}, before the first checkpoint: "
                                  f"there is nothing to resume; {again} starts the run again in the same folder")
        return RunInterrupted(f"interrupted at step {self.progress['step']}; the last checkpoint (step {last}) "
                              f"is kept in {self.ckpt_dir}; continue with {again}")

    def loop(self, log) -> tuple[str | None, str]:
        pn, prog, every = self.pn, self.progress, self.opts.checkpoint_every_steps
        # a resume with a larger --epochs / --max-steps continues; an early-stopped run stays stopped
        while prog["epoch"] < self.plan.epochs and not prog["early_stopped"]:
            epoch = prog["epoch"]
            train = self.epoch_train(epoch)
            order = epoch_order(len(train), self.cfg.random_seed, epoch, self.ctx)
            batches = [order[i:i + self.batch] for i in range(0, len(order), self.batch)]
            if prog["batch"] == 0:  # the epoch's running sums are checkpointed: a resume continues them
                prog["sums"] = {"loss": 0.0, "grad": 0.0, "n": 0, "clipped": 0, "scen": 0}
            sums = prog["sums"]
            t_epoch = time.perf_counter()
            while prog["batch"] < len(batches):
                # Ctrl-C / SIGTERM, acted on between steps (see cli.py); every replica stops together
                if ddp.any_flag(STOP.is_set(), self.ctx, self.device):
                    raise KeyboardInterrupt
                if self.plan.max_steps is not None and prog["step"] >= self.plan.max_steps:
                    return None, f"--max-steps {self.plan.max_steps} reached"
                # lr: the warm-up scheduler set it after the previous step; read it for the log
                lr = self.optimizer.param_groups[0]["lr"]
                # eval/checkpoint: every N steps when asked (epoch-end ones happen below)
                if every and prog["step"] % every == 0 and prog["step"] != self.last_saved_step:
                    self.save()
                # forward / backward
                t0 = time.perf_counter()
                step = prog["step"] + 1
                batch = train.slice(batches[prog["batch"]].to(self.device))
                with self.autocast():
                    out = self.model(batch)
                out = _float_output(out)
                loss = self.loss_fn(out, batch)
                if self.hooks.after_loss is not None:
                    loss = self.hooks.after_loss(step, loss)
                named = {**{f"loss component {k}": v for k, v in loss.components.items()},
                         "total loss": loss.total, "output priority": out.priority,
                         "output uncertainty": out.uncertainty}
                bad = hm.find_nonfinite(named)
                grad_norm = float("nan")
                self.optimizer.zero_grad(set_to_none=True)
                if bad is None:
                    loss.total.backward()
                    # clip: the norm is measured before clipping (the health checks want the raw one)
                    grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), pn.gradient_clip_norm))
                    if not np.isfinite(grad_norm):
                        bad = hm.nonfinite_gradient(self.raw_model) or "gradient norm"
                bad_any = ddp.any_flag(bad is not None, self.ctx, self.device)
                if bad_any and bad is None:
                    bad = "another replica's loss or gradient"
                values = _step_values(loss, grad_norm)
                health = self.monitor.observe(step, values, bad, grad_norm, hm.batchnorm_in_eval(self.raw_model))
                stop = hm.decide_stop(health, self.monitor.state, self.cfg.monitoring.health)
                # step (skipped when non-finite: the weights stay at the last good values)
                if bad is None:
                    self.optimizer.step()
                    if step <= self.warmup_steps:
                        self.warmup.step()
                else:
                    self.optimizer.zero_grad(set_to_none=True)
                # log
                dt_step = time.perf_counter() - t0
                n_scen = len(batch) * self.ctx.world_size
                record = {"kind": "step", "epoch": epoch, "batch": prog["batch"], "step": step,
                          "loss": values["loss"], "components": _floats(loss.components),
                          "weighted": _floats(loss.weighted), "grad_norm": grad_norm,
                          "clipped": health.clipped, "lr": lr, "scenarios_per_s": n_scen / dt_step,
                          "nonfinite": health.nonfinite, "spike": health.spike,
                          "bn_eval": health.bn_eval, "skipped": health.skipped}
                if log is not None:
                    log.write(record)
                self.obs.step(record)
                prog["step"], prog["batch"] = step, prog["batch"] + 1
                if stop is not None:
                    prog["step"] -= 1  # the checkpoint holds the state before the failed step
                    prog["batch"] -= 1
                    self.save()
                    return stop, "stopped by the health monitor"
                if bad is None:
                    sums["loss"] += values["loss"]; sums["grad"] += grad_norm; sums["n"] += 1
                    sums["clipped"] += int(health.clipped); sums["scen"] += n_scen
            # eval / schedule / early stopping / checkpoint at the end of the epoch
            end = self.end_epoch(log, epoch, sums, time.perf_counter() - t_epoch)
            if end is not None:
                return None, end
        return None, "completed"

    def epoch_train(self, epoch: int):
        """This epoch's training scenarios: fresh ones from the epoch's seed (data.synthetic.fresh_each_epoch)."""
        from ahsd_train.engine.benchmark import fresh_training_scenarios

        if epoch == 0 or self.plan.data_dir or not self.cfg.data.synthetic.fresh_each_epoch:
            return self.data.train
        return fresh_training_scenarios(self.cfg, len(self.data.train), epoch, self.device)

    def end_epoch(self, log, epoch: int, sums: dict, seconds: float) -> str | None:
        pn, prog = self.pn, self.progress
        sums = dict(sums)
        sums["loss"], sums["n"] = ddp.all_sum([sums["loss"], float(sums["n"])], self.ctx, self.device)
        sums["n"] = int(sums["n"]) // self.ctx.world_size  # steps per replica (each saw every step)
        sums["loss"] /= self.ctx.world_size  # mean over replicas of the per-step local losses
        val = evaluate_split(self.model, self.loss_fn, self.data.val, self.autocast, self.obs.progress, "validation")
        val_loss = val.get("loss", sums["loss"] / max(sums["n"], 1))
        if epoch + 1 >= pn.warmup_epochs:
            self.plateau.step(val_loss)
        improved = val_loss < prog["best_val_loss"]
        prog["best_val_loss"] = min(prog["best_val_loss"], val_loss)
        prog["bad_epochs"] = 0 if improved else prog["bad_epochs"] + 1
        prog["epoch"], prog["batch"] = epoch + 1, 0
        record = {"kind": "epoch", "epoch": epoch, "step": prog["step"],
                  "train_loss": sums["loss"] / sums["n"] if sums["n"] else None,
                  "grad_norm_mean": sums["grad"] / sums["n"] if sums["n"] else None,
                  "clipped_fraction": sums["clipped"] / sums["n"] if sums["n"] else None,
                  "val_loss": val_loss, "val": {k: v for k, v in val.items() if k != "loss"},
                  "lr": self.optimizer.param_groups[0]["lr"], "best": improved,
                  "scenarios_per_s": sums["scen"] / seconds if seconds > 0 else None,
                  "seconds": seconds}
        early = early_stopping_due(prog["bad_epochs"], pn, self.cfg.monitoring)
        prog["early_stopped"] = early
        if log is not None:
            log.write(record)
            log.sync()
        last_epoch = early or prog["epoch"] >= self.plan.epochs
        if prog["epoch"] % self.cfg.monitoring.log_frequency == 0 or last_epoch:
            self.obs.epoch(record)  # metrics.jsonl and TensorBoard get every epoch regardless
        if improved or last_epoch or prog["epoch"] % self.cfg.monitoring.save_frequency == 0:
            # output.save_best_only: best.pt tracks the best validation loss; off: no best.pt
            self.save(best=improved and self.cfg.output.save_best_only, epoch_end=prog["epoch"])
        if early:
            return f"early stopping: no validation improvement for {prog['bad_epochs']} epochs (patience {pn.patience})"
        return None

    # --- the end -------------------------------------------------------------------------------

    def finish(self, log, stop_reason: str | None, end_reason: str) -> RunResult:
        from ahsd_train.review import report as rep

        report: dict[str, Any] = {}
        if self.ctx.is_main:
            if stop_reason is None and self.last_saved_step != self.progress["step"]:
                self.save()
            final = {} if stop_reason else {
                "val": evaluate_split(self.model, self.loss_fn, self.data.val, self.autocast, self.obs.progress, "validation"),
                "test": evaluate_split(self.model, self.loss_fn, self.data.test, self.autocast, self.obs.progress, "test")}
            if final.get("test") and final.get("val"):  # tau over detectable signals, CIs, pair probabilities
                from ahsd_train.engine.benchmark import benchmark_of_model

                final["test"].update(benchmark_of_model(self.model, self.data.val, self.data.test, self.autocast))
            if log is not None:
                log.close()
            records = runlog.read_metrics(self.run_dir)
            report = rep.build_report(records, self.cfg, self.raw_model.has_batchnorm(), final,
                                      stop_reason=stop_reason, end_reason=end_reason,
                                      n_fallbacks=self.monitor.state.n_fallbacks, progress=self.progress)
            rep.write_report(self.run_dir, report)
            if self.cfg.output.generate_plots:
                from ahsd_train.review import plots

                plots.write_plots(self.run_dir, records, self.pn.gradient_clip_norm, self.pn.loss_scale_factor)
            self.write_run_json("stopped" if stop_reason else "finished",
                                {"end_reason": stop_reason or end_reason,
                                 "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
        ddp.barrier(self.ctx)
        return RunResult(self.run_dir, report, stop_reason)


def _step_values(loss, grad_norm: float) -> dict[str, float]:
    """Loss, its weighted components and the grad norm as floats, with one host sync."""
    names = list(loss.weighted)
    stacked = torch.stack([loss.total.detach().float()] + [loss.weighted[k].detach().float() for k in names])
    vals = stacked.tolist()
    return {"loss": vals[0], **{k: v for k, v in zip(names, vals[1:])}, "grad_norm": grad_norm}


def _floats(d: dict[str, torch.Tensor]) -> dict[str, float]:
    return {k: float(v.detach()) for k, v in d.items()}


def _resolved_yaml(p: Prepared) -> str:
    header = (f"# resolved config: {p.path}\n# revision: {p.revision}\n# sha256 of the file: {p.sha256}\n"
              + ("# --force: run despite error findings (see run.json)\n" if p.forced else ""))
    # python mode: int mapping keys stay ints (JSON mode wrote per_param_tail_bounds keys as strings)
    return header + runlog.dump_yaml(p.config.model_dump(mode="python"))
