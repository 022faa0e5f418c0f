"""`ahsd-train run`: pre-run checks, then a health-watched training loop that reads top to bottom.

    run()        prepare (setup.py: load -> --set overrides -> behind-head warning -> validate)
                 -> preflight (preflight.py: PriorityNet on the meta device, ~1 s, any machine)
                 -> device -> Trainer(...).train()
    train()      data, model, optimizer, schedulers, [resume], run directory, then loop():
    loop()       per epoch: the epoch's data and batches, then per step (train_step):
                   lr -> eval/checkpoint -> forward/backward -> clip -> step -> log
                 and at the epoch's end (end_epoch): validate -> schedule -> early stopping -> checkpoint
    finish()     final checkpoint, final evaluation and benchmark, report.json, plots, run.json

Each job lives in its own unit of `ahsd_train/run/`: setup (config -> `Prepared`), preflight,
batches (data, splits, epoch order), optim (optimizer, schedules, early stopping), evaluation,
health (measurements, the decision to stop, the checklist), records (typed step and epoch records),
runlog (metrics.jsonl, TensorBoard, run files), rundir (where the run lives, run.json's fields),
checkpoint, distributed, report, plots, observer. This module holds only the loop and its state.

Configuration flows once: the validated, frozen `TrainingConfig` is passed into the constructors
(`PriorityNet(cfg.priority_net, ...)`, `PriorityLoss(cfg.priority_net)`, the optimizer and the
schedulers). Rendering lives in the CLI: the loop reports through an `Observer`.
"""

from __future__ import annotations

import contextlib
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ahsd_config.input.files import atomic_write
from ahsd_train.errors import RunInterrupted
from ahsd_train.run import checkpoint as ckpt
from ahsd_train.run import distributed as ddp
from ahsd_train.run import health as hm
from ahsd_train.run import plots
from ahsd_train.run import report as rep
from ahsd_train.run import runlog
from ahsd_train.run.batches import (epoch_batches, epoch_order, epoch_training_data, load_data, model_strain_shape,
                                    seed_everything)
from ahsd_train.run.evaluation import evaluate_split, float_output
from ahsd_train.run.observer import Observer, Silent, TrainHooks
from ahsd_train.run.optim import build_optimizer, build_schedulers, early_stopping_due
from ahsd_train.run.preflight import check_memory, preflight
from ahsd_train.run.records import EpochRecord, StepRecord
from ahsd_train.run.rundir import STOP, STOPPING, choose_run_dir, now, resolved_yaml, run_info
from ahsd_train.run.setup import Plan, Prepared, RunOptions, make_plan, prepare, resolve_device
from ahsd_train.run.state import EpochSums, LoopState


@dataclass
class RunResult:
    run_dir: Path
    report: dict[str, Any]
    stop_reason: str | None  # a health stop (exit 1); None for a clean finish

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None


def run(opts: RunOptions, observer: Observer | None = None, hooks: TrainHooks | None = None,
        prepared: Prepared | None = None) -> RunResult:
    """`ahsd-train run`: prepare -> preflight -> train. Raises AhsdTrainError / ConfigInvalid.
    `prepared`: `prepare(opts)` already done (the CLI does it before importing this module)."""
    ctx = ddp.from_env()
    observer = observer or Observer()
    if not ctx.is_main:  # one voice: only rank 0 reports
        observer = Silent()
    prepared = prepared or prepare(opts)
    for w in prepared.warnings:
        observer.warn(w)
    config = prepared.config
    plan = make_plan(config, opts)
    from ahsd_train.engine.normalization import FEATURE_NAMES

    strain_shape, n_features = model_strain_shape(config, plan), len(FEATURE_NAMES)
    device = resolve_device(opts.device or config.device, ctx)
    preflight(config, n_features, strain_shape,
              check_size=lambda n_params: check_memory(config, plan, n_params, n_features, strain_shape, device))
    ddp.init(ctx, device)
    try:
        with contextlib.ExitStack() as held:  # the run folder's lock, from its choice to the run's end
            return Trainer(opts, prepared, plan, ctx, device, observer, hooks or TrainHooks(), held).train()
    finally:
        ddp.shutdown(ctx)


class Trainer:
    """State of one run; `train()` is the loop. Split into methods only where a phase is long."""

    def __init__(self, opts: RunOptions, prepared: Prepared, plan: Plan, ctx: ddp.DistContext,
                 device: torch.device, observer: Observer, hooks: TrainHooks,
                 held: contextlib.ExitStack | None = None) -> None:
        self.opts, self.prepared, self.plan = opts, prepared, plan
        self.cfg, self.pn = prepared.config, prepared.config.priority_net
        self.ctx, self.device, self.obs, self.hooks = ctx, device, observer, hooks
        self.config_json = self.cfg.model_dump_json()
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else nullcontext
        self.run_dir = choose_run_dir(opts, self.cfg, ctx, held)
        self.ckpt_dir = self.run_dir / runlog.CHECKPOINTS
        self.started: str | None = None
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
        self.batch = ddp.per_replica_batch(self.pn, self.ctx)
        n_local = len(epoch_order(len(self.data.train), 0, 0, self.ctx))
        self.steps_per_epoch = max(1, -(-n_local // self.batch))
        self.warmup, self.plateau, self.warmup_steps = build_schedulers(self.pn, self.optimizer, self.steps_per_epoch)
        self.monitor = hm.HealthMonitor(self.cfg.monitoring.health, self.pn.gradient_clip_norm)
        self.progress = LoopState()

    def restore(self) -> None:
        """--resume: latest good checkpoint, same config (or --force), every state exactly. A
        checkpoint whose parts do not load into this run falls back to the previous one."""
        diff: list = []

        def apply(payload: dict[str, Any]) -> None:
            diff[:] = ckpt.check_resume_config(str(self.ckpt_dir), payload, self.config_json,
                                               self.plan.data_json(), self.opts.force)
            self.raw_model.load_state_dict(payload["model"])
            self.optimizer.load_state_dict(payload["optimizer"])
            self.warmup.load_state_dict(payload["warmup"])
            self.plateau.load_state_dict(payload["plateau"])
            self.monitor.state = hm.HealthState.from_state(payload["health"])
            self.progress = LoopState.from_state(payload["progress"])
            ckpt.restore_rng(payload["rng"])

        # on CPU first: RNG states must stay CPU tensors; load_state_dict moves the rest to the device
        _, fell_back = ckpt.load_latest(self.ckpt_dir, self.obs.warn, map_location="cpu", apply=apply)
        if diff:
            self.obs.warn("--force: resuming with a changed config: " +
                          ", ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in diff))
        self.monitor.state.n_fallbacks += int(fell_back)

    def save(self, *, best: bool = False, epoch_end: int | None = None) -> None:
        if not self.ctx.is_main:
            return
        out = self.cfg.output
        intermediate = (epoch_end if epoch_end is not None and out.save_intermediate
                        and epoch_end % self.cfg.monitoring.save_frequency == 0 else None)
        ckpt.save(self.ckpt_dir, {
            "model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "warmup": self.warmup.state_dict(), "plateau": self.plateau.state_dict(),
            "rng": ckpt.capture_rng(), "progress": self.progress.to_state(),
            "health": self.monitor.state.to_state(), "config_json": self.config_json,
            "run_options_json": self.plan.data_json(),
        }, best=best, intermediate_epoch=intermediate)
        self.last_saved_step = self.progress.step

    def write_run_json(self, status: str, extra: dict | None = None) -> None:
        if not self.ctx.is_main:
            return
        info = run_info(status, self.opts, self.prepared, self.plan, self.config_json, self.device,
                        self.ctx.world_size, self.raw_model.has_batchnorm(), self.started, extra)
        runlog.write_json(self.run_dir / runlog.RUN_JSON, info)

    # --- the run -------------------------------------------------------------------------------

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
        self.started = now()
        log = None
        if self.ctx.is_main:
            # read what a resume keeps of the log before anything is written: a log that cannot be
            # read refuses the resume with run.json and the checkpoints as they were
            kept = runlog.lines_through(self.run_dir, self.progress.step) if self.resume else None
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.run_dir / runlog.RESOLVED, resolved_yaml(self.prepared))
            self.write_run_json("running")
        try:  # from here on run.json says "running": every way out says what happened instead
            if self.ctx.is_main:
                log = runlog.MetricsLog(self.run_dir, self.progress.step if self.resume else None, kept=kept)
            self.last_saved_step = self.progress.step if self.resume else -1
            total_steps = self.plan.epochs * self.steps_per_epoch
            if self.plan.max_steps is not None:
                total_steps = min(total_steps, self.plan.max_steps)
            self.obs.start(self.run_dir, total_steps, self.progress.step, self.steps_per_epoch)
            try:
                stop_reason, end_reason = self.loop(log)
            finally:
                self.obs.close()
            return self.finish(log, stop_reason, end_reason)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into the same)
            STOPPING.set()
            raise self.interrupted(log) from None
        except Exception as exc:  # a full disk, a folder that went away, a bug: recorded, then raised
            self.failed(log, exc)
            raise

    def failed(self, log, exc: Exception) -> None:
        """run.json says "failed" with the error and the checkpoint a resume would use (best effort:
        the write can fail for the same reason; the error itself still reaches the user)."""
        with contextlib.suppress(Exception):
            if log is not None:
                log.close()
        with contextlib.suppress(Exception):
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            self.write_run_json("failed", {"end_reason": f"failed: {reason}",
                                           "checkpoint_step": ckpt.newest_step(self.ckpt_dir), "failed": now()})

    def interrupted(self, log) -> RunInterrupted:
        """Record the interruption in run.json and say what is true about resuming."""
        if log is not None:
            log.close()
        last = ckpt.newest_step(self.ckpt_dir)
        self.write_run_json("interrupted", {"end_reason": "interrupted", "checkpoint_step": last,
                                            "interrupted": now()})
        again = f"the same command plus `--resume --out {self.run_dir}`"
        if last is None:
            return RunInterrupted(f"interrupted at step {self.progress.step}, before the first checkpoint: "
                                  f"there is nothing to resume; {again} starts the run again in the same folder")
        return RunInterrupted(f"interrupted at step {self.progress.step}; the last checkpoint (step {last}) "
                              f"is kept in {self.ckpt_dir}; continue with {again}")

    # --- the loop ------------------------------------------------------------------------------

    def loop(self, log) -> tuple[str | None, str]:
        """Epochs of steps until the plan's length, early stopping or a health stop:
        (stop reason or None, end reason)."""
        prog = self.progress
        # a resume with a larger --epochs / --max-steps continues; an early-stopped run stays stopped
        while prog.epoch < self.plan.epochs and not prog.early_stopped:
            epoch = prog.epoch
            train = epoch_training_data(self.cfg, self.plan, self.data, epoch, self.device)
            batches = epoch_batches(len(train), self.cfg.random_seed, epoch, self.ctx, self.batch)
            if prog.batch == 0:  # the epoch's running sums are checkpointed: a resume continues them
                prog.sums = EpochSums()
            t_epoch = time.perf_counter()
            while prog.batch < len(batches):
                # Ctrl-C / SIGTERM, acted on between steps (see cli.py); every replica stops together
                if ddp.any_flag(STOP.is_set(), self.ctx, self.device):
                    STOPPING.set()
                    raise KeyboardInterrupt
                if self.plan.max_steps is not None and prog.step >= self.plan.max_steps:
                    return None, f"--max-steps {self.plan.max_steps} reached"
                stop = self.train_step(epoch, train, batches[prog.batch], log)
                if stop is not None:
                    return stop, "stopped by the health monitor"
            # eval / schedule / early stopping / checkpoint at the end of the epoch
            end = self.end_epoch(log, epoch, time.perf_counter() - t_epoch)
            if end is not None:
                return None, end
        return None, "completed"

    def train_step(self, epoch: int, train, index: torch.Tensor, log) -> str | None:
        """One optimizer step in the loop's phase order; the health monitor's stop reason, or None."""
        prog, every = self.progress, self.opts.checkpoint_every_steps
        # lr: the warm-up scheduler set it after the previous step; read it for the log
        lr = self.optimizer.param_groups[0]["lr"]
        # eval/checkpoint: every N steps when asked (epoch-end ones happen in end_epoch)
        if every and prog.step % every == 0 and prog.step != self.last_saved_step:
            self.save()
        t0 = time.perf_counter()
        step = prog.step + 1
        batch = train.slice(index.to(self.device))
        # forward / backward / clip; `bad` names the first non-finite value (on any replica)
        loss, bad, grad_norm = self.forward_backward(batch, step)
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
        record = StepRecord(epoch=epoch, batch=prog.batch, step=step, loss=values["loss"],
                            components=_floats(loss.components), weighted=_floats(loss.weighted),
                            grad_norm=grad_norm, clipped=health.clipped, lr=lr,
                            scenarios_per_s=n_scen / dt_step, nonfinite=health.nonfinite,
                            spike=health.spike, bn_eval=health.bn_eval, skipped=health.skipped)
        if log is not None:
            log.write(record)
        self.obs.step(record)
        prog.step, prog.batch = step, prog.batch + 1
        if stop is not None:
            prog.step -= 1  # the checkpoint holds the state before the failed step
            prog.batch -= 1
            self.save()
            return stop
        if bad is None:
            prog.sums.add(values["loss"], grad_norm, health.clipped, n_scen)
        return None

    def forward_backward(self, batch, step: int):
        """Forward (autocast on CUDA), loss, and — when everything is finite — backward and clip.
        Returns (loss, name of the first non-finite value or None, pre-clip grad norm or NaN)."""
        with self.autocast():
            out = self.model(batch)
        out = float_output(out)
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
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.pn.gradient_clip_norm))
            if not np.isfinite(grad_norm):
                bad = hm.nonfinite_gradient(self.raw_model) or "gradient norm"
        if ddp.any_flag(bad is not None, self.ctx, self.device) and bad is None:
            bad = "another replica's loss or gradient"
        return loss, bad, grad_norm

    def end_epoch(self, log, epoch: int, seconds: float) -> str | None:
        """Validate -> schedule -> early stopping -> log -> checkpoint; the early-stop reason or None."""
        pn, prog, sums = self.pn, self.progress, self.progress.sums
        loss_sum, n = ddp.all_sum([sums.loss, float(sums.n)], self.ctx, self.device)
        n = int(n) // self.ctx.world_size  # steps per replica (each saw every step)
        loss_sum /= self.ctx.world_size  # mean over replicas of the per-step local losses
        val = evaluate_split(self.model, self.loss_fn, self.data.val, self.autocast, self.obs.progress, "validation")
        val_loss = val.get("loss", loss_sum / max(n, 1))
        if epoch + 1 >= pn.warmup_epochs:
            self.plateau.step(val_loss)
        improved = val_loss < prog.best_val_loss
        prog.best_val_loss = min(prog.best_val_loss, val_loss)
        prog.bad_epochs = 0 if improved else prog.bad_epochs + 1
        prog.epoch, prog.batch = epoch + 1, 0
        record = EpochRecord(epoch=epoch, step=prog.step,
                             train_loss=loss_sum / n if n else None,
                             grad_norm_mean=sums.grad / n if n else None,
                             clipped_fraction=sums.clipped / n if n else None,
                             val_loss=val_loss, val={k: v for k, v in val.items() if k != "loss"},
                             lr=self.optimizer.param_groups[0]["lr"], best=improved,
                             scenarios_per_s=sums.scen / seconds if seconds > 0 else None, seconds=seconds)
        early = early_stopping_due(prog.bad_epochs, pn, self.cfg.monitoring)
        prog.early_stopped = early
        if log is not None:
            log.write(record)
            log.sync()
        last_epoch = early or prog.epoch >= self.plan.epochs
        if prog.epoch % self.cfg.monitoring.log_frequency == 0 or last_epoch:
            self.obs.epoch(record)  # metrics.jsonl and TensorBoard get every epoch regardless
        if improved or last_epoch or prog.epoch % self.cfg.monitoring.save_frequency == 0:
            # output.save_best_only: best.pt tracks the best validation loss; off: no best.pt
            self.save(best=improved and self.cfg.output.save_best_only, epoch_end=prog.epoch)
        if early:
            return f"early stopping: no validation improvement for {prog.bad_epochs} epochs (patience {pn.patience})"
        return None

    # --- the end -------------------------------------------------------------------------------

    def finish(self, log, stop_reason: str | None, end_reason: str) -> RunResult:
        """Final checkpoint, final evaluation and benchmark, report.json, plots, run.json (rank 0)."""
        report: dict[str, Any] = {}
        if self.ctx.is_main:
            if stop_reason is None and self.last_saved_step != self.progress.step:
                self.save()
            final = {} if stop_reason else self.final_evaluation()
            if log is not None:
                log.close()
            records = runlog.read_metrics(self.run_dir)
            report = rep.build_report(records, self.cfg, self.raw_model.has_batchnorm(), final,
                                      stop_reason=stop_reason, end_reason=end_reason,
                                      n_fallbacks=self.monitor.state.n_fallbacks, progress=self.progress)
            rep.write_report(self.run_dir, report)
            if self.cfg.output.generate_plots:
                plots.write_plots(self.run_dir, records, self.pn.gradient_clip_norm, self.pn.loss_scale_factor)
            self.write_run_json("stopped" if stop_reason else "finished",
                                {"end_reason": stop_reason or end_reason, "finished": now()})
        ddp.barrier(self.ctx)
        return RunResult(self.run_dir, report, stop_reason)

    def final_evaluation(self) -> dict[str, dict[str, Any]]:
        """Validation and test metrics of the final weights; the test split also gets the benchmark
        (tau over detectable signals, CIs, pair probabilities)."""
        final = {"val": evaluate_split(self.model, self.loss_fn, self.data.val, self.autocast, self.obs.progress, "validation"),
                 "test": evaluate_split(self.model, self.loss_fn, self.data.test, self.autocast, self.obs.progress, "test")}
        if final.get("test") and final.get("val"):
            from ahsd_train.engine.benchmark import benchmark_of_model

            final["test"].update(benchmark_of_model(self.model, self.data.val, self.data.test, self.autocast))
        return final


def _step_values(loss, grad_norm: float) -> dict[str, float]:
    """Loss, its weighted components and the grad norm as floats, with one host sync."""
    names = list(loss.weighted)
    stacked = torch.stack([loss.total.detach().float()] + [loss.weighted[k].detach().float() for k in names])
    vals = stacked.tolist()
    return {"loss": vals[0], **{k: v for k, v in zip(names, vals[1:])}, "grad_norm": grad_norm}


def _floats(d: dict[str, torch.Tensor]) -> dict[str, float]:
    return {k: float(v.detach()) for k, v in d.items()}
