"""Kinds `numeric`, `bench`, `datagen`, `compare` (options): absurd numbers for every count and
length option of `run`, `compare`, `bench` and `data generate` (huge, negative, zero, NaN, inf,
spelled oddly), and special places as `data generate --out`."""

from __future__ import annotations

import os
import shutil
import signal

from harness import Ctx, Probe

KINDS = {"numeric", "bench", "datagen", "compare"}
NEEDS = {"ds", "project"}
BAD_NUM = ["1e12", "1000000000000", "0", "-1", "nan", "1e23", "100000000000000000000000", "inf", "", " 3"]


def probes(ctx: Ctx) -> list[Probe]:
    probes: list[Probe] = []
    W = str(ctx.fixtures / "project")
    CFG = ctx.cfg

    def add(*a, **k):
        probes.append(Probe(*a, **k))

    CMP = ["compare"]
    # --------------------------------------------------------------- absurd numeric options
    RUN = ctx.run_args()
    for label, extra in [("epochs_neg", ["--epochs", "-3"]), ("epochs_zero", ["--epochs", "0"]),
                         ("epochs_huge", ["--epochs", "99999999999999999999999", "--max-steps", "2"]),
                         ("epochs_float", ["--epochs", "1.5"]), ("epochs_nan", ["--epochs", "nan"]),
                         ("max_steps_huge", ["--max-steps", "99999999999999999999999", "--epochs", "1"]),
                         ("max_steps_zero", ["--max-steps", "0"]), ("ckpt_every_huge", ["--checkpoint-every-steps", "99999999999999999999", "--max-steps", "2"]),
                         ("ckpt_every_1", ["--checkpoint-every-steps", "1", "--max-steps", "3"]),
                         ("device_tpu", ["--device", "tpu"]), ("device_cuda", ["--device", "cuda", "--max-steps", "1"]),
                         ("device_meta", ["--device", "meta"]), ("no_config", ["--config", "/nonexistent.yaml"])]:
        add(f"opt-run-{label}", "numeric", [*RUN, *extra, "--out", "{d}/r"], expect={0, 2}, timeout=120, cwd=W)
    add("opt-run-noconfig-bare", "numeric", ["run", "--out", "{d}/r"], expect={2}, cwd=W)
    add("opt-run-noconfig-outside", "numeric", ["run", "--quick", "--out", "{d}/r"], expect={2}, cwd="/tmp")
    GEN = ["data", "generate", "--config", str(CFG), "--set", "priority_net.use_strain=false", "--set", "data.synthetic.max_signals=4"]
    for label, extra in [("scen_huge", ["--scenarios", "99999999999999"]), ("scen_1e12", ["--scenarios", "1000000000000"]),
                         ("scen_zero", ["--scenarios", "0"]), ("shard_huge", ["--scenarios", "10", "--shard-size", "99999999999999999999"]),
                         ("workers_huge", ["--scenarios", "10", "--workers", "99999999"]),
                         ("window_no_physics", ["--scenarios", "10", "--window-seconds", "1e308"]),
                         ("phys_window_1e308", ["--scenarios", "2", "--physics", "--window-seconds", "1e308"]),
                         ("phys_window_nan", ["--scenarios", "2", "--physics", "--window-seconds", "nan"]),
                         ("phys_window_neg", ["--scenarios", "2", "--physics", "--window-seconds", "-4"]),
                         ("phys_window_tiny", ["--scenarios", "2", "--physics", "--window-seconds", "1e-300"]),
                         ("phys_rate_huge", ["--scenarios", "2", "--physics", "--window-rate", "99999999999999999999"]),
                         ("phys_rate_zero", ["--scenarios", "2", "--physics", "--window-rate", "0"]),
                         ("phys_rate_neg", ["--scenarios", "2", "--physics", "--window-rate", "-512"]),
                         ("phys_workers_huge", ["--scenarios", "2", "--physics", "--workers", "100000"]),
                         ("seed_huge", ["--scenarios", "10", "--seed", "99999999999999999999999"]),
                         ("seed_neg", ["--scenarios", "10", "--seed", "-5"]),
                         ("set_bad", ["--scenarios", "10", "--set", "priority_net.hidden_dims[abc]=1"])]:
        add(f"opt-gen-{label}", "numeric", [*GEN, *extra, "--out", "{d}/ds"], expect={0, 2}, timeout=120)


    def gen_out(kind):
        def setup(d):
            o = d / "ds"
            if kind == "file":
                o.write_text("x")
            elif kind == "devzero":
                o.symlink_to("/dev/zero")
            elif kind == "ro":
                o.mkdir()
                o.chmod(0o555)
            elif kind == "manifest_dir":
                o.mkdir()
                (o / "manifest.json").mkdir()
            elif kind == "shard_fifo":
                o.mkdir()
                os.mkfifo(o / "shard-00000.safetensors")
            elif kind == "shard_devzero":
                o.mkdir()
                (o / "shard-00000.safetensors").symlink_to("/dev/zero")
            elif kind == "existing_ds":
                shutil.copytree(ctx.base_ds, o)
            elif kind == "shard_dir":
                o.mkdir()
                (o / "shard-00000.safetensors").mkdir()
        return setup


    for kind in ["file", "devzero", "ro", "manifest_dir", "shard_fifo", "shard_devzero", "existing_ds", "shard_dir"]:
        add(f"gen-out-{kind}", "datagen", [*GEN, "--scenarios", "20", "--shard-size", "10", "--out", "{d}/ds"],
            setup=gen_out(kind), expect={0, 2}, timeout=90, protect=["ds", "ds/*"])
        add(f"gen-phys-out-{kind}", "datagen", [*GEN, "--physics", "--scenarios", "2", "--shard-size", "1", "--workers", "1",
                                                "--window-seconds", "0.25", "--window-rate", "128", "--out", "{d}/ds"],
            setup=gen_out(kind), expect={0, 2}, timeout=150, protect=["ds", "ds/*"])

    for label, extra in [("batch_huge", ["--batch-size", "999999999999"]), ("batch_zero", ["--batch-size", "0"]),
                         ("device_tpu", ["--device", "tpu"]), ("device_cuda", ["--device", "cuda"])]:
        add(f"bench-{label}", "bench", ["bench", *extra, "--json"], expect={0, 2}, timeout=200, cwd=W)


    # compare: hostile values for --scenarios / --epochs / --out
    for opt in ("--scenarios", "--epochs"):
        for v in BAD_NUM:
            args = [*CMP, opt, v, "--epochs" if opt == "--scenarios" else "--scenarios",
                    "1" if opt == "--scenarios" else "64", "head", "head", "--out", "{d}/o"]
            if opt == "--epochs" and v == "1000000000000":
                # within the option's bound (2**40): a budget of 10**12 epochs is asked for, and runs;
                # what is due is that a Ctrl-C stops it cleanly
                add(f"n-compare{opt}={v!r}", "compare", args, expect={130}, timeout=120, cwd=W,
                    signal_after=(lambda d: (d / "o" / "run-A" / "metrics.jsonl").exists(), signal.SIGINT, 3.0))
                continue
            if v == " 3" and opt == "--epochs":  # click reads " 3" as 3: a real comparison, minutes on a
                # shared box (`--scenarios 3` is below compare's least, 8: refused like the rest)
                add(f"n-compare{opt}={v!r}", "compare", args, expect={0}, timeout=600, cwd=W)
                continue
            add(f"n-compare{opt}={v!r}", "compare", args, expect={2}, timeout=60, cwd=W, protect=["o", "o/*"])
    for kind, setup, out in [
            ("devnull", None, "/dev/null"), ("fifo", lambda d: os.mkfifo(d / "o"), "{d}/o"),
            ("dangling", lambda d: (d / "o").symlink_to(d / "nowhere/x"), "{d}/o"),
            ("newline_file", lambda d: (d / "a\nb").write_text("x"), "{d}/a\nb"),
            ("newline_new", None, "{d}/a\nb"), ("under_file", lambda d: (d / "f").write_text("x"), "{d}/f/o")]:
        add(f"n-compare-out-{kind}", "compare", [*CMP, "--scenarios", "64", "--epochs", "1", "head", "head", "--out", out],
            setup=setup, expect={0, 2}, timeout=120, cwd=W, protect=["*"])

    # bench
    for v in BAD_NUM:
        add(f"n-bench-batch={v!r}", "bench", ["bench", "--batch-size", v, "--json", "-q"], expect={0, 2}, timeout=90, cwd=W)
    add("n-bench-device=meta", "bench", ["bench", "--device", "meta", "--json"], expect={2}, timeout=60, cwd=W)
    add("n-bench-device=newline", "bench", ["bench", "--device", "cpu\nx", "--json"], expect={2}, timeout=60, cwd=W)

    # data generate
    for opt in ("--scenarios", "--shard-size", "--workers", "--seed"):
        for v in BAD_NUM:
            extra = [] if opt == "--scenarios" else ["--scenarios", "10"]
            add(f"n-gen{opt}={v!r}", "datagen", [*GEN, opt, v, *extra, "--out", "{d}/ds", "-q"],
                expect={0, 2}, timeout=60)
    for v in ("1e12", "0", "-1", "nan", "inf", "1e-300"):
        for opt in ("--window-seconds", "--window-rate"):
            add(f"n-gen-phys{opt}={v!r}", "datagen", [*GEN, "--physics", "--scenarios", "2", "--workers", "1", opt, v,
                                                          "--out", "{d}/ds", "-q"], expect={0, 2}, timeout=90)
    for kind, setup, out in [
            ("devnull", None, "/dev/null"), ("devzero_direct", None, "/dev/zero"),
            ("fifo", lambda d: os.mkfifo(d / "ds"), "{d}/ds"),
            ("dangling", lambda d: (d / "ds").symlink_to(d / "nowhere/x"), "{d}/ds"),
            ("loop", lambda d: ((d / "ds").symlink_to(d / "ds2"), (d / "ds2").symlink_to(d / "ds")), "{d}/ds"),
            ("newline_file", lambda d: (d / "a\nb").write_text("x"), "{d}/a\nb"),
            ("newline_new", None, "{d}/a\nb"), ("under_file", lambda d: (d / "f").write_text("x"), "{d}/f/ds"),
            ("other_files", lambda d: ((d / "ds").mkdir(), (d / "ds/keep.txt").write_text("mine")), "{d}/ds"),
            ("manifest_garbage", lambda d: ((d / "ds").mkdir(), (d / "ds/manifest.json").write_text("{garbage")), "{d}/ds"),
            ("manifest_other_n", lambda d: shutil.copytree(ctx.base_ds, d / "ds"), "{d}/ds"),
            ("manifest_fifo", lambda d: ((d / "ds").mkdir(), os.mkfifo(d / "ds/manifest.json")), "{d}/ds"),
            ("manifest_devzero", lambda d: ((d / "ds").mkdir(), (d / "ds/manifest.json").symlink_to("/dev/zero")), "{d}/ds")]:
        add(f"n-gen-out-{kind}", "datagen", [*GEN, "--scenarios", "20", "--shard-size", "10", "--out", out, "-q"],
            setup=setup, expect={0, 2}, timeout=60, protect=["*", "ds/*"])

    # run lengths
    for opt in ("--epochs", "--max-steps", "--checkpoint-every-steps"):
        for v in ("1e23", "100000000000000000000000", "nan", "inf", "-0", "0x10", "1_000"):
            add(f"n-run{opt}={v!r}", "numeric", [*RUN, opt, v, *(["--max-steps", "2"] if opt != "--max-steps" else ["--epochs", "1"]),
                                                     "--out", "{d}/r"], expect={0, 2}, timeout=90, cwd=W)
    return probes
