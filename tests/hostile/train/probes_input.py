"""Kinds `set`, `config`, `out`, `newline`: hostile `--set` overrides, special files and hostile
YAML as `--config`, special places as `--out`, newlines in paths and overrides."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from harness import Ctx, Probe

KINDS = {"set", "config", "out", "newline"}
NEEDS = {"run"}


def nothing_created(rel: str):
    def check(d: Path, res) -> list[str]:
        return ["CREATED"] if (d / rel).exists() else []
    return check


def set_values(ctx: Ctx) -> list[str]:
    return [
        "priority_net.hidden_dims[abc]=1", "priority_net.hidden_dims[99]=1", "priority_net.hidden_dims[-1]=1",
        "priority_net.hidden_dims[0][0]=1", "priority_net.hidden_dims[]=1", "priority_net.hidden_dims[=1",
        "priority_net.hidden_dims]0[=1", "priority_net.hidden_dims[99999999999999999999999]=1",
        "priority_net=5", "=5", "priority_net..batch_size=1", ".priority_net.batch_size=1", "nokeyvalue",
        "priority_net.batch_size", "priority_net.batch_size=", "priority_net.batch_size=1e400",
        "priority_net.batch_size=.nan", "priority_net.batch_size=-.inf", "priority_net.batch_size=" + "9" * 500,
        f"priority_net.batch_size=!!python/object/apply:os.system ['{ctx.touch_marker()}']",
        "priority_net.batch_size=!!python/name:os.system", "priority_net.batch_size=&a [*a, *a]",
        "priority_net.batch_size=" + "[" * 80 + "1" + "]" * 80,
        "priority_net.batch_size={a: 1}", "priority_net.batch_size=\"\\udcff\"", "priority_net.batch_size=1\n2",
        "priority_net.batch_size=1 # c", "priority_net.batch_size: 3",
        "__class__=1", "priority_net.__dict__=1", "priority_net.unknown_key=1", "data.synthetic=5",
        "priority_net.hidden_dims=5", "priority_net.hidden_dims=[]", "priority_net.hidden_dims=[0]",
        "priority_net.hidden_dims=[-1]", "priority_net.hidden_dims=[99999999999]",
        "priority_net.hidden_dims=[1e400]", "priority_net.hidden_dims=[.nan]", "priority_net.hidden_dims={0: 3}",
        "priority_net.optimizer=SGD", "priority_net.optimizer=[AdamW]", "device=tpu", "device=mps",
        "random_seed=-1", "random_seed=1e400", "random_seed=" + "9" * 30, "revision=v1",
        "revision=../../etc/passwd", "experiment_name=../../x", "experiment_name=a/b", "experiment_name=",
        "experiment_name=\"\\n\"", "experiment_name=" + "x" * 300, "data.synthetic.n_scenarios=0",
        "data.synthetic.n_scenarios=3", "data.synthetic.max_signals=1", "data.synthetic.max_signals=0",
        "data.validation_split=1.0", "data.validation_split=0.99", "data.test_split=0.99",
        "priority_net.batch_size=1", "priority_net.batch_size=0", "priority_net.batch_size=100000",
        "priority_net.epochs=0", "priority_net.epochs=-3", "priority_net.warmup_epochs=1000",
        "priority_net.hidden_dims[0]=\"\\ud800\"", "neural_posterior.flow_config.per_param_tail_bounds={x: 1}",
        "neural_posterior.flow_config.per_param_tail_bounds={0: -1}", "output.save_intermediate=true",
        "monitoring.save_frequency=0", "monitoring.log_frequency=0",
    ]


def config_setup(ctx: Ctx, kind: str):
    text = ctx.cfg.read_text()
    payload = f"!!python/object/apply:os.system ['{ctx.touch_marker()}']"

    def setup(d: Path) -> None:
        p = d / "c.yaml"
        specials = {"fifo": lambda: os.mkfifo(p), "devzero": lambda: p.symlink_to("/dev/zero"),
                    "devnull": lambda: p.symlink_to("/dev/null"), "dir": p.mkdir,
                    "dangling": lambda: p.symlink_to(d / "nowhere"), "loop": lambda: p.symlink_to(p)}
        if kind in specials:
            specials[kind]()
        elif kind == "huge":
            with open(p, "wb") as f:
                f.truncate(5 << 30)
        elif kind == "unreadable":
            p.write_text(text)
            p.chmod(0)
        else:
            p.write_bytes({
                "binary": lambda: os.urandom(4000),
                "latin1": lambda: text.encode() + b"# \xe9\n",
                "bom": lambda: b"\xef\xbb\xbf" + text.encode(),
                "utf16": lambda: text.encode("utf-16"),
                "empty": lambda: b"",
                "list": lambda: b"- 1\n- 2\n",
                "scalar": lambda: b"hello\n",
                "pyobj": lambda: (payload + "\n").encode(),
                "pyobj_value": lambda: text.replace("random_seed: 420", "random_seed: " + payload).encode(),
                "nul": lambda: text.encode().replace(b"random_seed", b"random\x00seed"),
                "alias_bomb": lambda: ("a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
                    f"{n}: &{n} [{','.join(['*' + prev] * 9)}]\n" for prev, n in zip("abcde", "bcdef"))
                    + "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n").encode(),
                "deep": lambda: ("a: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
                "crlf": lambda: text.encode().replace(b"\n", b"\r\n"),
                "dupkey": lambda: (text + "random_seed: 1\n").encode(),
            }[kind]())
    return setup


CONFIG_KINDS = ["fifo", "devzero", "devnull", "dir", "dangling", "huge", "loop", "unreadable", "binary", "latin1",
                "bom", "utf16", "empty", "list", "scalar", "pyobj", "pyobj_value", "nul", "alias_bomb", "deep",
                "crlf", "dupkey"]
# Valid configs a careful user may hold: a BOM, CRLF line ends, and an unreadable file when the
# probe runs as root (root reads a 0000 file; the refusal is due for anyone else).
CONFIG_MAY_RUN = {"bom", "crlf", "unreadable"}
# Refused by a rule, not the loader: the answer is the findings report (a line per finding, its
# hint, a summary line), as for any invalid config, not one line.
FINDINGS_REPORT = {"dupkey"}


def out_setup(ctx: Ctx, kind: str):
    def setup(d: Path) -> None:
        o = d / "o"
        if kind in ("newline", "long", "empty", "dash"):  # the path itself is the attack
            return
        if kind in ("file", "fifo", "devzero", "devnull", "dangling", "dirlink", "ro", "under_file", "existing_run"):
            {"file": lambda: o.write_text("keep me"), "fifo": lambda: os.mkfifo(o),
             "devzero": lambda: o.symlink_to("/dev/zero"), "devnull": lambda: o.symlink_to("/dev/null"),
             "dangling": lambda: o.symlink_to(d / "nowhere" / "x"),
             "dirlink": lambda: ((d / "real").mkdir(), o.symlink_to(d / "real")),
             "ro": lambda: (o.mkdir(), o.chmod(0o555)), "under_file": lambda: (d / "f").write_text("x"),
             "existing_run": lambda: shutil.copytree(ctx.base_run, o)}[kind]()
            return
        o.mkdir()
        entry, what = {"runjson_dir": ("run.json", "dir"), "metrics_dir": ("metrics.jsonl", "dir"),
                       "resolved_dir": ("config.resolved.yaml", "dir"), "ckpt_file": ("checkpoints", "file"),
                       "tb_file": ("tb", "file"), "plots_file": ("plots", "file"), "report_dir": ("report.json", "dir"),
                       "metrics_devzero": ("metrics.jsonl", "/dev/zero"), "metrics_fifo": ("metrics.jsonl", "fifo"),
                       "runjson_devnull": ("run.json", "/dev/null"), "runjson_ro": ("run.json", "ro")}[kind]
        p = o / entry
        if what == "dir":
            p.mkdir()
        elif what == "file":
            p.write_text("x")
        elif what == "fifo":
            os.mkfifo(p)
        elif what == "ro":
            p.write_text("{}")
            p.chmod(0o444)
        else:
            p.symlink_to(what)
    return setup


OUT_KINDS = {"file": "{d}/o", "fifo": "{d}/o", "devzero": "{d}/o", "devnull": "{d}/o", "dangling": "{d}/o",
             "dirlink": "{d}/o", "ro": "{d}/o/r", "under_file": "{d}/f/sub", "existing_run": "{d}/o",
             "runjson_dir": "{d}/o", "metrics_dir": "{d}/o", "resolved_dir": "{d}/o", "ckpt_file": "{d}/o",
             "tb_file": "{d}/o", "plots_file": "{d}/o", "report_dir": "{d}/o", "metrics_devzero": "{d}/o",
             "metrics_fifo": "{d}/o", "runjson_devnull": "{d}/o", "runjson_ro": "{d}/o",
             "newline": "{d}/a\nb", "long": "{d}/" + "x" * 300, "empty": "", "dash": "-"}
# --out places a run may legitimately use: a symlink to a folder, a name with a newline, "-" (a
# folder named "-"), and a read-only parent when the probe runs as root (root writes there).
OUT_MAY_RUN = {"dirlink", "newline", "dash", "ro"}


def probes(ctx: Ctx) -> list[Probe]:
    run = ctx.run_args()
    out: list[Probe] = []
    for i, s in enumerate(set_values(ctx)):
        out.append(Probe(f"set-{i:02d} {s[:60]}", "set", [*run, "--set", s, "--max-steps", "2", "--out", "{d}/r"],
                         expect={0, 2}, timeout=120, one_line=False, fast=s.startswith("priority_net.batch_size=!!")))
    out.append(Probe("set-bytes-key", "set", [*run, "--set", b"priority_net.\xff=1", "--max-steps", "1", "--out", "{d}/r"]))
    out.append(Probe("set-bytes-value", "set", [*run, "--set", b"experiment_name=\xff\xfe", "--max-steps", "1",
                                                "--out", "{d}/r"], expect={0, 2}))
    out.append(Probe("config-bytes-path", "config", ["run", "--config", b"/tmp/\xff.yaml", "--out", "{d}/r",
                                                     "--max-steps", "1"], fast=True))
    for kind in CONFIG_KINDS:
        may_run = kind in CONFIG_MAY_RUN
        out.append(Probe(f"config-{kind}", "config", ["run", "--config", "{d}/c.yaml", *run[3:], "--max-steps", "2",
                                                      "--out", "{d}/r"],
                         setup=config_setup(ctx, kind), expect={0, 2} if may_run else {2}, timeout=60,
                         one_line=kind not in FINDINGS_REPORT,
                         check=None if may_run else nothing_created("r"),
                         fast=kind in ("fifo", "pyobj", "alias_bomb", "devzero")))
    for kind, path in OUT_KINDS.items():
        may_run = kind in OUT_MAY_RUN
        out.append(Probe(f"out-{kind}", "out", [*run, "--max-steps", "2", "--out", path],
                         setup=out_setup(ctx, kind), expect={0, 2} if may_run else {2}, timeout=90,
                         protect=["o", "o/*", "f"], fast=kind == "file"))
        out.append(Probe(f"out-resume-{kind}", "out", [*run, "--max-steps", "2", "--resume", "--out", path],
                         setup=out_setup(ctx, kind), expect={0, 2}, timeout=90,
                         protect=["o", "o/*", "o/checkpoints/*", "f"]))
    out += newline_probes(ctx, run)
    return out


def newline_probes(ctx: Ctx, run: list) -> list[Probe]:
    # the first indented batch_size is priority_net's: 0 is refused by the schema
    invalid = re.sub(r"(?m)^(  batch_size:) *\d+", r"\1 0", ctx.cfg.read_text(), count=1)
    cfg_nl = ["run", "--config", "{d}/c\nfg.yaml", "--device", "cpu", "--max-steps", "1", "--out", "{d}/r"]
    return [
        Probe("n-run-out-newline-file", "newline", [*run, "--max-steps", "1", "--out", "{d}/a\nb/r"],
              setup=lambda d: (d / "a\nb").write_text("x"), timeout=60, protect=["*"]),
        Probe("n-run-out-newline-ok", "newline", [*run, "--max-steps", "1", "--out", "{d}/a\nb"], expect={0}),
        Probe("n-run-config-newline-missing", "newline", cfg_nl),
        Probe("n-run-config-newline-invalid", "newline", cfg_nl, one_line=False,  # the findings report
              setup=lambda d: (d / "c\nfg.yaml").write_text(invalid)),
        Probe("n-run-config-newline-yamlerr", "newline", cfg_nl, setup=lambda d: (d / "c\nfg.yaml").write_text("a: [\n")),
        Probe("n-run-config-newline-dir", "newline", cfg_nl, setup=lambda d: (d / "c\nfg.yaml").mkdir()),
        Probe("n-doctor-newline-missing", "newline", ["doctor", "{d}/r\nun"]),
        Probe("n-evaluate-newline-missing", "newline", ["evaluate", "{d}/r\nun"]),
        Probe("n-data-newline-missing", "newline", [*run, "--max-steps", "1", "--data", "{d}/d\ns", "--out", "{d}/r"]),
        Probe("n-set-newline", "newline", [*run, "--max-steps", "1", "--set", "priority_net.batch_size=1\n2",
                                           "--out", "{d}/r"]),
        Probe("n-set-newline-key", "newline", [*run, "--max-steps", "1", "--set", "priority_net.bat\nch_size=1",
                                               "--out", "{d}/r"]),
    ]
