"""The fixtures probes copy: a finished tiny run, a small dataset, and one hostile config per
(scalar key, hostile value) with what `ahsd-config validate` says of it. Built once per work
folder by the project's own commands (so they are what this checkout writes), reused after."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from harness import Ctx, sets

# One value per class of hostile scalar: wrong type (string, list, map, bool, null), non-finite,
# beyond float and 64-bit range, sign and zero, denormal-small, past 2**31, a lone surrogate.
VALUES = ['"abc"', "[1]", "{a: 1}", ".nan", ".inf", "-.inf", "1e400", "99999999999999999999999999",
          "-1", "0", "null", '"\\udcff"', "true", "1.0e-300", "2147483648"]
SECTIONS = ("priority_net", "data", "monitoring", "output")
TOP_KEYS = ("random_seed", "device", "experiment_name")


def _run(cmd: list, what: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    if res.returncode != 0:
        raise RuntimeError(f"fixture {what} failed (exit {res.returncode}): {res.stderr.strip()[-500:]}")


def base_run(ctx: Ctx) -> Path:
    """A finished run with last.pt, last.prev.pt and best.pt (two epochs, a checkpoint each)."""
    if not (ctx.base_run / "report.json").exists():
        shutil.rmtree(ctx.base_run, ignore_errors=True)
        _run([str(ctx.exe), *ctx.run_args("--out", str(ctx.base_run))], "base run")
    return ctx.base_run


def base_ds(ctx: Ctx) -> Path:
    """40 analytic scenarios with strain, 4 shards of 10."""
    if not (ctx.base_ds / "manifest.json").exists():
        shutil.rmtree(ctx.base_ds, ignore_errors=True)
        _run([str(ctx.exe), "data", "generate", "--config", str(ctx.cfg), *sets(["data.synthetic.max_signals=4"]),
              "--scenarios", "40", "--shard-size", "10", "--out", str(ctx.base_ds), "-q"], "base dataset")
    return ctx.base_ds


def _targets(lines: list[str]) -> list[tuple[int, str, str, str]]:
    """(line, indent, key, section) of each scalar (and priority_net list) line the trainer reads."""
    out, section = [], None
    for i, ln in enumerate(lines):
        m = re.match(r"^([a-z_]+):", ln)
        if m:
            section = m.group(1)
            if section in TOP_KEYS:
                out.append((i, "", section, "top"))
            continue
        m = re.match(r"^(\s+)([a-z_0-9]+): (\S.*)$", ln)
        if m and section in SECTIONS and (not m.group(3).startswith("[") or section == "priority_net"):
            out.append((i, m.group(1), m.group(2), section))
    return out


def configs(ctx: Ctx) -> list[dict]:
    """Every (target line, value) config of the base run's resolved config, with validate's verdict:
    'refused' (its error codes), 'input-error' (unreadable: exit 2 line) or 'accepted'."""
    index = ctx.fixtures / "cfgs.json"
    if index.exists():
        return json.loads(index.read_text())
    folder = ctx.fixtures / "cfgs"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    text = (base_run(ctx) / "config.resolved.yaml").read_text()
    lines = text.splitlines(keepends=True)
    made = []
    for i, indent, key, section in _targets(lines):
        for value in VALUES:
            new = list(lines)
            new[i] = f"{indent}{key}: {value}\n"
            name = f"{section}.{key}={value}"
            path = folder / (re.sub(r"[^A-Za-z0-9_.=-]", "_", name) + ".yaml")
            path.write_text("".join(new))
            made.append({"name": name, "path": str(path)})
    for name, body in (("surrogate_key", text.replace("priority_net:\n", 'priority_net:\n  "\\udcff": 1\n', 1)),
                       ("surrogate_top", text + '"\\ud800": 1\n')):
        path = folder / f"{name}.yaml"
        path.write_text(body)
        made.append({"name": name, "path": str(path)})
    verdicts = _validate(ctx, folder)
    for c in made:
        c["status"], c["codes"] = verdicts.get(c["path"], ("input-error", ["INPUT"]))
    index.write_text(json.dumps(made, indent=0))
    return made


def _validate(ctx: Ctx, folder: Path) -> dict:
    """One `ahsd-config validate --format json` over the folder. A file it could not read is listed
    in the JSON with no findings; its one line on stderr, led by its path, tells it apart."""
    res = subprocess.run([str(ctx.bin / "ahsd-config"), "validate", "--format", "json", str(folder / "*.yaml")],
                         capture_output=True, text=True)
    report = json.loads(res.stdout) if res.stdout.strip() else {"files": []}
    unreadable = {line.split(":", 1)[0] for line in res.stderr.splitlines()}
    out = {}
    for f in report["files"]:
        if f["path"] in unreadable:
            out[f["path"]] = ("input-error", ["INPUT"])
            continue
        codes = sorted({x["code"] for x in f["findings"] if x["severity"] == "error"})
        out[f["path"]] = ("refused", codes) if codes else ("accepted", [])
    return out


def project(ctx: Ctx) -> Path:
    """A copy of the project's pyproject.toml, configs/ and migrations/ (no git): the folder that
    `compare` and `doctor --propose-migration` run in, so a probe can never write into the checkout."""
    dest = ctx.fixtures / "project"
    if not (dest / "pyproject.toml").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        shutil.copy(ctx.root / "pyproject.toml", dest / "pyproject.toml")
        for folder in ("configs", "migrations"):
            shutil.copytree(ctx.root / folder, dest / folder)
    return dest


def build(ctx: Ctx, need: set[str]) -> None:
    ctx.fixtures.mkdir(parents=True, exist_ok=True)
    if "project" in need:
        project(ctx)
    if "run" in need or "configs" in need:
        base_run(ctx)
    if "ds" in need:
        base_ds(ctx)
    if "configs" in need:
        configs(ctx)
