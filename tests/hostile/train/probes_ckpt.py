"""Kind `ckpt`: `--resume` over checkpoints and run files broken in every way, including pickles
crafted to run code on load. The run must fall back to the previous checkpoint with a reason, or
refuse in one line; planted code must never run; a refusal leaves the checkpoints as they were."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path

from harness import Ctx, Probe

KINDS = {"ckpt"}
NEEDS = {"run"}
class Evil:
    """Runs `command` when unpickled."""

    command = "false"

    def __reduce__(self):
        return (os.system, (self.command,))


def torch_edit(fn, name="last.pt", both=False):
    def change(c, d):
        import torch

        names = [name] + (["last.prev.pt"] if both else [])
        for n in names:
            p = torch.load(c / n, weights_only=True)
            p = fn(p, torch) or p
            torch.save(p, c / n)
    return change


def evil_pickle(c, d):
    with open(c / "last.pt", "wb") as f:
        pickle.dump({"format": 1, "x": Evil()}, f)


def evil_zip(c, d):
    import torch

    torch.save({"format": 1, "x": Evil()}, c / "last.pt")


def evil_both(c, d):
    import torch

    torch.save({"format": 1, "x": Evil()}, c / "last.pt")
    torch.save({"format": 1, "x": Evil()}, c / "last.prev.pt")


def other_shape(c, d):
    import torch

    for n in ("last.pt", "last.prev.pt"):
        p = torch.load(c / n, weights_only=True)
        p["model"] = {k: torch.zeros(3) for k in p["model"]}
        torch.save(p, c / n)


CK = {
    "last_devzero": lambda c, d: ((c / "last.pt").unlink(), (c / "last.pt").symlink_to("/dev/zero")),
    "last_fifo": lambda c, d: ((c / "last.pt").unlink(), os.mkfifo(c / "last.pt")),
    "both_fifo": lambda c, d: ((c / "last.pt").unlink(), os.mkfifo(c / "last.pt"), (c / "last.prev.pt").unlink(), os.mkfifo(c / "last.prev.pt")),
    "prev_devzero": lambda c, d: ((c / "last.pt").write_bytes(b"junk"), (c / "last.prev.pt").unlink(), (c / "last.prev.pt").symlink_to("/dev/zero")),
    "last_dir": lambda c, d: ((c / "last.pt").unlink(), (c / "last.pt").mkdir()),
    "last_dangling": lambda c, d: ((c / "last.pt").unlink(), (c / "last.pt").symlink_to(c / "zz")),
    "last_garbage": lambda c, d: (c / "last.pt").write_bytes(os.urandom(1000)),
    "last_truncated": lambda c, d: (c / "last.pt").write_bytes((c / "last.pt").read_bytes()[:5000]),
    "both_truncated": lambda c, d: ((c / "last.pt").write_bytes(b"x"), (c / "last.prev.pt").write_bytes(b"y")),
    "last_empty": lambda c, d: (c / "last.pt").write_bytes(b""),
    "last_huge_sparse": lambda c, d: (open(c / "last.pt", "r+b").truncate(20 << 30)),
    "evil_pickle": evil_pickle,
    "evil_zip": evil_zip,
    "evil_both": evil_both,
    "other_shape": other_shape,
        "rng_empty": torch_edit(lambda p, t: p.update(rng={}), both=True),
    "rng_wrong": torch_edit(lambda p, t: p["rng"].update(torch=t.zeros(3)), both=True),
    "rng_python_short": torch_edit(lambda p, t: p["rng"].update(python=t.zeros(3, dtype=t.int64)), both=True),
    "rng_numpy_wrong": torch_edit(lambda p, t: p["rng"].update(numpy={"keys": 1}), both=True),
    "optimizer_empty": torch_edit(lambda p, t: p.update(optimizer={}), both=True),
    "optimizer_wrong": torch_edit(lambda p, t: p.update(optimizer={"state": 5, "param_groups": 7}), both=True),
    "warmup_wrong": torch_edit(lambda p, t: p.update(warmup={"x": 1}), both=True),
    "plateau_wrong": torch_edit(lambda p, t: p.update(plateau={"best": "x", "mode": 5}), both=True),
    "health_empty": torch_edit(lambda p, t: p.update(health={}), both=True),
    "health_wrong": torch_edit(lambda p, t: p.update(health={k: "x" for k in p["health"]}), both=True),
    "progress_neg": torch_edit(lambda p, t: p["progress"].update(step=-5, epoch=-1, batch=-3), both=True),
    "progress_huge": torch_edit(lambda p, t: p["progress"].update(step=10**18, epoch=10**18, batch=10**18), both=True),
    "progress_batch_big": torch_edit(lambda p, t: p["progress"].update(batch=10**6, epoch=0), both=True),
    "progress_sums_wrong": torch_edit(lambda p, t: p["progress"].update(sums="x"), both=True),
    "progress_best_str": torch_edit(lambda p, t: p["progress"].update(best_val_loss="x"), both=True),
    "progress_bool": torch_edit(lambda p, t: p["progress"].update(step=True), both=True),
    "config_json_other": torch_edit(lambda p, t: p.update(config_json='{"a": 1}'), both=True),
    "config_json_deep": torch_edit(lambda p, t: p.update(config_json="[" * 100000 + "]" * 100000), both=True),
    "run_options_wrong": torch_edit(lambda p, t: p.update(run_options_json='{"n_scenarios": "x"}'), both=True),
    "model_extra_key": torch_edit(lambda p, t: p["model"].update(bogus=t.zeros(1)), both=True),
    "model_missing_key": torch_edit(lambda p, t: p["model"].pop(next(iter(p["model"]))), both=True),
    "model_nan": torch_edit(lambda p, t: [v.fill_(float("nan")) for v in p["model"].values() if v.is_floating_point()], both=True),
    "format_2": torch_edit(lambda p, t: p.update(format=2), both=True),
    "not_dict": lambda c, d: (__import__("torch").save([1, 2], c / "last.pt"), __import__("torch").save([1], c / "last.prev.pt")),
    "ckpts_devzero": lambda c, d: (shutil.rmtree(c), c.symlink_to("/dev/zero")),
    "ckpts_file": lambda c, d: (shutil.rmtree(c), c.write_text("x")),
    "ckpts_ro": lambda c, d: (c.chmod(0o555)),
    "no_checkpoints_running": lambda c, d: (shutil.rmtree(c),),
    "runjson_devzero": lambda c, d: ((d / "run/run.json").unlink(), (d / "run/run.json").symlink_to("/dev/zero")),
    "runjson_fifo": lambda c, d: ((d / "run/run.json").unlink(), os.mkfifo(d / "run/run.json")),
    "runjson_garbage": lambda c, d: (d / "run/run.json").write_text("{{{"),
    "metrics_devzero": lambda c, d: ((d / "run/metrics.jsonl").unlink(), (d / "run/metrics.jsonl").symlink_to("/dev/zero")),
    "metrics_fifo": lambda c, d: ((d / "run/metrics.jsonl").unlink(), os.mkfifo(d / "run/metrics.jsonl")),
    "metrics_dir": lambda c, d: ((d / "run/metrics.jsonl").unlink(), (d / "run/metrics.jsonl").mkdir()),
    "metrics_huge_line": lambda c, d: open(d / "run/metrics.jsonl", "a").write('{"kind": "step", "x": "' + "a" * (300 << 20) + '"}\n'),
    "metrics_garbage": lambda c, d: (d / "run/metrics.jsonl").write_bytes(os.urandom(3000)),
    "metrics_latin1": lambda c, d: open(d / "run/metrics.jsonl", "ab").write(b'{"kind": "step", "x": "\xe9"}\n'),
    "metrics_deep": lambda c, d: open(d / "run/metrics.jsonl", "a").write("[" * 100000 + "]" * 100000 + "\n"),
    "metrics_steps_str": lambda c, d: open(d / "run/metrics.jsonl", "a").write('{"kind": "step", "step": "9"}\n'),
    "resolved_devzero": lambda c, d: ((d / "run/config.resolved.yaml").unlink(), (d / "run/config.resolved.yaml").symlink_to("/dev/zero")),
    "tb_file": lambda c, d: (shutil.rmtree(d / "run/tb"), (d / "run/tb").write_text("x")),
    "plots_file": lambda c, d: (shutil.rmtree(d / "run/plots", ignore_errors=True), (d / "run/plots").write_text("x")),
    "stale_tmp": lambda c, d: (c / ".last.pt.999999.abc.tmp").write_bytes(b"x" * 100),
    "link_tmp": lambda c, d: (c / ".last.prev.pt.999999.link.tmp").write_bytes(b"x"),
}


def other_config(ctx: Ctx):
    """Both checkpoints replaced by those of a run of another width (built once per pass)."""
    def change(c: Path, d: Path) -> None:
        import fcntl

        other = ctx.fixtures / "other_width_run"
        # two probes of a --jobs 2 pass need it at once: built once, under a lock (two runs into one
        # --out are refused by the run folder's lock, and before that lock they corrupted each other)
        with open(ctx.fixtures / ".other_width_run.build", "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            if not (other / "checkpoints" / "last.prev.pt").exists():
                shutil.rmtree(other, ignore_errors=True)
                subprocess.run([str(ctx.exe), *ctx.run_args("--set", "priority_net.hidden_dims=[8]", "--out", str(other))],
                               env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, check=True)
        for n in ("last.pt", "last.prev.pt"):
            shutil.copy(other / "checkpoints" / n, c / n)
    return change


def probes(ctx: Ctx) -> list[Probe]:
    Evil.command = ctx.touch_marker()
    kinds = {**CK, "other_config_hidden": other_config(ctx)}
    out = []
    for name, fn in kinds.items():
        def setup(d: Path, fn=fn) -> None:
            shutil.copytree(ctx.base_run, d / "run", symlinks=True)
            fn(d / "run" / "checkpoints", d)

        modes = ("same", "force") if name.startswith(("other", "config", "run_options", "model", "progress")) else ("same",)
        for mode in modes:
            extra = ["--force"] if mode == "force" else []
            out.append(Probe(f"ckpt-{name}-{mode}", "ckpt", [*ctx.run_args(), "--resume", "--epochs", "3", "--out",
                                                             "{d}/run", *extra],
                             setup=setup, expect={0, 2}, timeout=120, one_line=False,
                             protect=["run/checkpoints/last.pt", "run/checkpoints/last.prev.pt",
                                      "run/checkpoints/best.pt"]))
    return out
