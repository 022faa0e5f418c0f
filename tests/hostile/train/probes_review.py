"""Kinds `doctor`, `evaluate`, `compare`: every run-folder file broken (special files, garbage,
wrong types, huge or deep values) for `doctor` and `evaluate`; hostile configs, revisions, options
and `--out` places for `compare`. Reading a run never changes it; a refusal is one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from harness import Ctx, Probe

KINDS = {"doctor", "evaluate", "compare"}
NEEDS = {"run", "project"}
MARKER: list = [None]  # set by probes(): the pass's marker file
PYTHON: list = [None]


def rewrite_metrics(r, fn):
    lines = [json.loads(ln) for ln in (r / "metrics.jsonl").read_text().splitlines()]
    out = []
    for rec in lines:
        new = fn(rec)
        if new is not None:
            out.append(new)
    (r / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in out))


def setf(field, value, kind=None):
    def fn(rec):
        if kind is None or rec.get("kind") == kind:
            rec[field] = value
        return rec
    return lambda r: rewrite_metrics(r, fn)


def report_edit(fn):
    def change(r):
        rep = json.loads((r / "report.json").read_text())
        rep = fn(rep) or rep
        (r / "report.json").write_text(json.dumps(rep))
    return change


RUNS = {
    "metrics_devzero": lambda r: ((r / "metrics.jsonl").unlink(), (r / "metrics.jsonl").symlink_to("/dev/zero")),
    "metrics_fifo": lambda r: ((r / "metrics.jsonl").unlink(), os.mkfifo(r / "metrics.jsonl")),
    "metrics_dir": lambda r: ((r / "metrics.jsonl").unlink(), (r / "metrics.jsonl").mkdir()),
    "metrics_dangling": lambda r: ((r / "metrics.jsonl").unlink(), (r / "metrics.jsonl").symlink_to(r / "zz")),
    "metrics_huge_line": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "step", "x": "' + "a" * (300 << 20) + '"}\n'),
    "metrics_huge_sparse": lambda r: open(r / "metrics.jsonl", "r+b").truncate(3 << 30),
    "metrics_missing": lambda r: (r / "metrics.jsonl").unlink(),
    "metrics_empty": lambda r: (r / "metrics.jsonl").write_text(""),
    "metrics_truncated": lambda r: (r / "metrics.jsonl").write_bytes((r / "metrics.jsonl").read_bytes()[:2500]),
    "metrics_garbage": lambda r: (r / "metrics.jsonl").write_bytes(os.urandom(3000)),
    "metrics_latin1": lambda r: open(r / "metrics.jsonl", "ab").write(b'{"kind": "step", "x": "\xe9"}\n'),
    "metrics_deep": lambda r: open(r / "metrics.jsonl", "a").write("[" * 100000 + "]" * 100000 + "\n"),
    "metrics_deep_obj": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "step", "components": ' + '{"a":' * 50000 + "1" + "}" * 50000 + "}\n"),
    "metrics_nan_lit": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "step", "step": 99, "loss": NaN, "grad_norm": Infinity}\n'),
    "metrics_bigint": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "step", "step": 1' + "0" * 5000 + "}\n"),
    "metrics_bigint_epoch": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "epoch", "epoch": 1' + "0" * 30 + ', "step": 1}\n'),
    "metrics_float_huge": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "step", "step": 1e308, "loss": 1e308, "grad_norm": 1e308}\n'),
    "metrics_surrogate": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "step", "nonfinite": "\\udcff", "step": 5}\n'),
    "metrics_surrogate_key": lambda r: open(r / "metrics.jsonl", "a").write('{"kind": "step", "components": {"\\ud800": 1.0}, "step": 5}\n'),
    "metrics_components_str": setf("components", {"mse": "x"}, "step"),
    "metrics_components_list": setf("components", [1, 2], "step"),
    "metrics_components_nested": setf("components", {"mse": {"a": 1}}, "step"),
    "metrics_weighted_bool": setf("weighted", {"mse": True}, "step"),
    "metrics_grad_str": setf("grad_norm", "high", "step"),
    "metrics_grad_neg": setf("grad_norm", -5.0, "step"),
    "metrics_grad_null": setf("grad_norm", None, "step"),
    "metrics_clipped_str": setf("clipped", "no", "step"),
    "metrics_bn_eval_str": setf("bn_eval", "layer", "step"),
    "metrics_bn_eval_dicts": setf("bn_eval", [{"a": 1}], "step"),
    "metrics_nonfinite_list": setf("nonfinite", [1], "step"),
    "metrics_epoch_neg": setf("epoch", -5),
    "metrics_epoch_huge": setf("epoch", 10**9),
    "metrics_batch_neg": setf("batch", -5, "step"),
    "metrics_val_list": setf("val", [1], "epoch"),
    "metrics_val_str_values": setf("val", {"kendall_tau": "x"}, "epoch"),
    "metrics_val_nested": setf("val", {"kendall_tau": {"a": [1]}}, "epoch"),
    "metrics_lr_str": setf("lr", "x"),
    "metrics_train_loss_str": setf("train_loss", "x", "epoch"),
    "metrics_seconds_neg": setf("seconds", -1, "epoch"),
    "metrics_kind_only": lambda r: (r / "metrics.jsonl").write_text('{"kind": "step"}\n{"kind": "epoch"}\n'),
    "metrics_only_epochs": lambda r: rewrite_metrics(r, lambda rec: rec if rec["kind"] == "epoch" else None),
    "metrics_only_steps": lambda r: rewrite_metrics(r, lambda rec: rec if rec["kind"] == "step" else None),
    "metrics_dup": lambda r: (r / "metrics.jsonl").write_text((r / "metrics.jsonl").read_text() * 3),
    "metrics_many_lines": lambda r: (r / "metrics.jsonl").write_text('{"kind": "step", "step": 1, "loss": 1.0, "grad_norm": 1.0}\n' * 400000),
    "metrics_crlf": lambda r: (r / "metrics.jsonl").write_bytes((r / "metrics.jsonl").read_bytes().replace(b"\n", b"\r\n")),
    "metrics_nul": lambda r: (r / "metrics.jsonl").write_bytes((r / "metrics.jsonl").read_bytes().replace(b"\n", b"\x00\n", 3)),
    "runjson_devzero": lambda r: ((r / "run.json").unlink(), (r / "run.json").symlink_to("/dev/zero")),
    "runjson_fifo": lambda r: ((r / "run.json").unlink(), os.mkfifo(r / "run.json")),
    "runjson_dir": lambda r: ((r / "run.json").unlink(), (r / "run.json").mkdir()),
    "runjson_missing": lambda r: (r / "run.json").unlink(),
    "runjson_status_list": lambda r: (r / "run.json").write_text('{"status": [1], "has_batchnorm": "yes"}'),
    "runjson_status_running": lambda r: (r / "run.json").write_text('{"status": "running"}'),
    "runjson_deep": lambda r: (r / "run.json").write_text("[" * 100000 + "]" * 100000),
    "runjson_latin1": lambda r: (r / "run.json").write_bytes(b'{"status": "\xe9"}'),
    "runjson_surrogate": lambda r: (r / "run.json").write_text('{"status": "\\udcff"}'),
    "runjson_hasbn_dict": lambda r: (r / "run.json").write_text('{"has_batchnorm": {"a": 1}}'),
    "report_missing": lambda r: (r / "report.json").unlink(),
    "report_devzero": lambda r: ((r / "report.json").unlink(), (r / "report.json").symlink_to("/dev/zero")),
    "report_list": lambda r: (r / "report.json").write_text("[]"),
    "report_stop_reason_list": report_edit(lambda rep: rep.update(stop_reason=[1, 2])),
    "report_stop_reason_surrogate": lambda r: (r / "report.json").write_text('{"stop_reason": "\\udcff", "metrics": {}}'),
    "report_metrics_str": report_edit(lambda rep: rep.update(metrics="x")),
    "report_metrics_list": report_edit(lambda rep: rep.update(metrics=[1])),
    "report_bench_str": report_edit(lambda rep: rep["metrics"].update(benchmark="x")),
    "report_gain_wrong": report_edit(lambda rep: rep["metrics"].update(gain_vs_snr={"estimate": "x", "ci95": 5})),
    "report_gain_ci_short": report_edit(lambda rep: rep["metrics"].update(gain_vs_snr={"estimate": 0.1, "ci95": [1]})),
    "report_gain_null": report_edit(lambda rep: rep["metrics"].update(gain_vs_snr=None)),
    "report_brier_str": report_edit(lambda rep: rep["metrics"].update(pair_brier="x")),
    "report_brier_null": report_edit(lambda rep: rep["metrics"].update(pair_brier=None)),
    "report_n_test_str": report_edit(lambda rep: rep["metrics"].update(n_test_scenarios="x")),
    "report_n_test_float": report_edit(lambda rep: rep["metrics"].update(n_test_scenarios=1e308)),
    "report_ranking_missing": report_edit(lambda rep: rep["metrics"]["benchmark"].pop("ranking", None)),
    "report_top1_missing": report_edit(lambda rep: rep["metrics"]["benchmark"]["ranking"].pop("top1_accuracy", None)),
    "report_tau_null": report_edit(lambda rep: rep["metrics"]["benchmark"]["ranking"].update(tau_detectable=None)),
    "report_checklist_str": report_edit(lambda rep: rep.update(checklist="x")),
    "report_surrogate_key": lambda r: (r / "report.json").write_text((r / "report.json").read_text().replace('"metrics": {', '"metrics": {"\\udcff": 1, ', 1)),
    "resolved_devzero": lambda r: ((r / "config.resolved.yaml").unlink(), (r / "config.resolved.yaml").symlink_to("/dev/zero")),
    "resolved_fifo": lambda r: ((r / "config.resolved.yaml").unlink(), os.mkfifo(r / "config.resolved.yaml")),
    "resolved_dir": lambda r: ((r / "config.resolved.yaml").unlink(), (r / "config.resolved.yaml").mkdir()),
    "resolved_dangling": lambda r: ((r / "config.resolved.yaml").unlink(), (r / "config.resolved.yaml").symlink_to(r / "zz")),
    "resolved_missing": lambda r: (r / "config.resolved.yaml").unlink(),
    "resolved_garbage": lambda r: (r / "config.resolved.yaml").write_bytes(os.urandom(2000)),
    "resolved_pyobj": lambda r: (r / "config.resolved.yaml").write_text(
        f"a: !!python/object/apply:os.system ['touch {MARKER[0]}']\n"),
    "resolved_empty": lambda r: (r / "config.resolved.yaml").write_text(""),
    "resolved_old_format": None,
    "run_is_file": lambda r: (shutil.rmtree(r), r.write_text("x")),
    "run_devzero": lambda r: (shutil.rmtree(r), r.symlink_to("/dev/zero")),
    "run_missing": lambda r: shutil.rmtree(r),
    "run_unreadable": lambda r: (r / "metrics.jsonl").chmod(0),
}


def old_format(r):
    """config.resolved.yaml as runs before 2ea7544 wrote it (a JSON-mode dump: integer keys as strings)."""
    code = ("import sys; from ahsd_train.run import runlog; from ahsd_config.api import load_config;"
            "c = load_config(sys.argv[1]).config;"
            "open(sys.argv[1], 'w').write(runlog.dump_yaml(c.model_dump(mode='json')))")
    subprocess.run([str(PYTHON[0]), "-c", code, str(r / "config.resolved.yaml")], check=True)



RUNS["resolved_old_format"] = old_format

def probes(ctx: Ctx) -> list[Probe]:
    MARKER[0], PYTHON[0] = ctx.marker, ctx.python
    probes: list[Probe] = []
    W = ctx.fixtures / "project"
    CFG = ctx.cfg

    def add(*a, **k):
        probes.append(Probe(*a, **k))

    def cp_run(d: Path, name="run"):
        shutil.copytree(ctx.base_run, d / name, symlinks=True)

    def rd(change):
        def setup(d):
            cp_run(d)
            change(d / "run")
        return setup

    for name, fn in RUNS.items():
        add(f"doctor-{name}", "doctor", ["doctor", "{d}/run"], setup=rd(fn), expect={0, 1, 2}, timeout=60, protect=["run/*"])
        add(f"evaluate-{name}", "evaluate", ["evaluate", "{d}/run"], setup=rd(fn), expect={0, 2}, timeout=60, protect=["run/*"])
        # a draft is written only when the gradients in metrics.jsonl call for fixes: the other
        # files' breakage reaches --propose-migration exactly as it reaches doctor
        if name.startswith("metrics"):
            add(f"doctor-propose-{name}", "doctor", ["doctor", "{d}/run", "--propose-migration"], setup=rd(fn),
                expect={0, 1, 2}, timeout=60, protect=["run/*"], cwd=str(W))
    for name in ["metrics_huge_line", "metrics_devzero", "resolved_old_format", "report_gain_wrong"]:
        add(f"evaluate-json-{name}", "evaluate", ["evaluate", "{d}/run", "--json"], setup=rd(RUNS[name]), expect={0, 2})

    # doctor --propose-migration --out / --parent
    for label, args, setup in [
        ("out_devzero", ["--out", "/dev/zero"], None), ("out_dir_yaml", ["--out", "{d}/x.yaml"], lambda d: (d / "x.yaml").mkdir()),
        ("out_fifo", ["--out", "{d}/f.yaml"], lambda d: os.mkfifo(d / "f.yaml")), ("out_ro", ["--out", "{d}/ro"], lambda d: ((d / "ro").mkdir(), (d / "ro").chmod(0o555))),
        ("parent_bogus", ["--parent", "nope"], None), ("parent_surrogate", ["--parent", b"\xff"], None),
        ("parent_dashes", ["--parent", "--help"], None), ("parent_path", ["--parent", "../../etc/passwd"], None),
        ("out_existing", ["--out", "{d}/e.yaml"], lambda d: (d / "e.yaml").write_text("keep")),
    ]:
        def setup(d, s=setup):
            cp_run(d)
            # make the run fail the gradient checks so a draft is written
            rewrite_metrics(d / "run", lambda rec: {**rec, "grad_norm": 1e4, "grad_norm_mean": 1e4} if rec["kind"] in ("step", "epoch") else rec)
            if s:
                s(d)
        add(f"doctor-draft-{label}", "doctor", ["doctor", "{d}/run", "--propose-migration", *args], setup=setup,
            expect={1, 2}, timeout=60, cwd=str(W), protect=["e.yaml"])

    # evaluate several, mixed
    add("evaluate-two-one-bad", "evaluate", ["evaluate", "{d}/run", "{d}/nope"], setup=lambda d: cp_run(d), expect={2})
    add("evaluate-none", "evaluate", ["evaluate"], expect={2})

    # --------------------------------------------------------------- compare
    CMP = ["compare", "--epochs", "1", "--scenarios", "64", "--set", "priority_net.hidden_dims=[16]",
           "--set", "priority_net.use_strain=false", "--set", "data.synthetic.test_scenarios=64", "--set",
           "data.synthetic.max_signals=4", "--json"]


    def cfgfile(kind):
        def setup(d):
            p = d / "a.yaml"
            if kind == "devzero":
                p.symlink_to("/dev/zero")
            elif kind == "fifo":
                os.mkfifo(p)
            elif kind == "huge":
                with open(p, "wb") as f:
                    f.truncate(3 << 30)
            elif kind == "dir":
                p.mkdir()
            elif kind == "garbage":
                p.write_bytes(os.urandom(300))
            elif kind == "pyobj":
                p.write_text(f"!!python/object/apply:os.system ['{ctx.touch_marker()}']\n")
            elif kind == "list":
                p.write_text("[1]\n")
            elif kind == "good":
                shutil.copy(CFG, p)
            elif kind == "latin1":
                p.write_bytes(CFG.read_bytes() + b"#\xe9\n")
            elif kind == "schema_bad":
                p.write_text(CFG.read_text().replace("batch_size: 128", "batch_size: abc"))
        return setup


    for kind in ["devzero", "fifo", "huge", "dir", "garbage", "pyobj", "list", "latin1", "schema_bad"]:
        add(f"compare-a-{kind}", "compare", [*CMP, "{d}/a.yaml", "head", "--out", "{d}/o"], setup=cfgfile(kind),
            expect={2}, timeout=120, cwd=str(W))
    for label, a, b in [("bogus_rev", "vNOPE", "head"), ("surrogate", b"\xff", "head"), ("dash", "--x", "head"),
                        ("git_opt", f"--output={ctx.marker}:x", "head"), ("revpath_bad", "HEAD:nope.yaml", "head"),
                        ("revpath_dotdot", "HEAD:../../etc/passwd", "head"), ("empty", "", "head"),
                        ]:
        add(f"compare-{label}", "compare", [*CMP, a, b, "--out", "{d}/o"], expect={2}, timeout=120, cwd=str(W))
    for label, extra in [("scenarios_huge", ["--scenarios", "99999999999999"]), ("epochs_huge", ["--epochs", "99999999999999999999"]),
                         ("scenarios_neg", ["--scenarios", "-5"]), ("scenarios_str", ["--scenarios", "1e3"]),
                         ("device_tpu", ["--device", "tpu"]), ("device_cuda", ["--device", "cuda"]),
                         ("set_bad", ["--set", "priority_net.hidden_dims[abc]=1"]), ("set_unknown", ["--set", "x.y=1"]),
                         ("set_seed", ["--set", "random_seed=1e400"])]:
        add(f"compare-opt-{label}", "compare", [*CMP, *extra, "head", "head", "--out", "{d}/o"], expect={2}, timeout=120, cwd=str(W))
    for kind, setup in [("file", lambda d: (d / "o").write_text("x")), ("devzero", lambda d: (d / "o").symlink_to("/dev/zero")),
                        ("ro", lambda d: ((d / "o").mkdir(), (d / "o").chmod(0o555))),
                        ("existing", lambda d: ((d / "o").mkdir(), (d / "o/compare.json").write_text("{}"))),
                        ("runA_file", lambda d: ((d / "o").mkdir(), (d / "o/run-A").write_text("x"))),
                        ("Ayaml_dir", lambda d: ((d / "o").mkdir(), (d / "o/A.yaml").mkdir()))]:
        # root writes into a 0555 folder: there the refusal is due only for other users
        add(f"compare-out-{kind}", "compare", [*CMP, "head", "head", "--out", "{d}/o"], setup=setup,
            expect={0, 2} if kind == "ro" and os.geteuid() == 0 else {2}, timeout=120, cwd=str(W),
            protect=["o", "o/*"])
    add("compare-good", "compare", [*CMP, "v15d", "head", "--out", "{d}/o"], expect={0}, timeout=600, cwd=str(W))
    return probes
