"""Kinds gate, gitargs, argv and revfile: gate bypasses on a pull-request branch, hostile git refs and
`diff` specs, hostile arguments of every command, and malformed revision files through every command."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness import PROBE_TOKEN, Probe, Target, git
from payloads import CFG, CMD, head_rev

REFOUT = PROBE_TOKEN + "/refout"  # where `--output=` smuggled into git would write


def wrote_refout(d: Path, proc) -> str | None:
    return "WROTE OUTSIDE (git took --output=)" if (d / "refout").exists() else None


def says_nothing_to_check(d: Path, proc) -> str | None:
    return None if b"nothing to check" in proc.stdout else "WORDING (want 'nothing to check')"


def pr(*steps, commit=True):
    def setup(d: Path):
        git(d, "checkout", "-qb", "pr")
        for s in steps:
            s(d)
        if commit:
            git(d, "add", "-A")
            git(d, "commit", "-qm", "pr", "--allow-empty")
    return setup


def w(rel, text):
    def f(d):
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink():
            p.unlink()
        p.write_text(text) if isinstance(text, str) else p.write_bytes(text)
    return f


def rm(rel):
    return lambda d: git(d, "rm", "-rq", rel)


def mv(a, b):
    def f(d):
        (d / b).parent.mkdir(parents=True, exist_ok=True)
        git(d, "mv", a, b)
    return f


def ln(rel, target):
    def f(d):
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() or p.is_symlink():
            p.unlink()
        p.symlink_to(target)
    return f


def sh(cmd):
    return lambda d: subprocess.run(cmd, shell=True, cwd=d, check=True, capture_output=True)


def rev(rid, parents, changes="[]", date="2026-12-01", title="t", name=None):
    body = f"id: {rid}\nparents: {parents}\ndate: '{date}'\ntitle: {title}\nchanges: {changes}\n"
    return w(f"migrations/{name or f'{date}_{rid}.yaml'}", body)


SET_BS = ("\n- op: set\n  key: priority_net.batch_size\n  old: 128\n  new: 6\n  rationale: BatchNorm is fine at six, "
          "measured on the benchmark run of issue 99 with three seeds\n")


def gate_probes(target: Target) -> list[Probe]:
    base = target.text(CFG)
    head = head_rev(target.root)
    bad = base.replace("  batch_size: 128", "  batch_size: 6", 1)  # validate: an AHSD101 error
    pyproject = target.text("pyproject.toml")
    out = []

    def G(name, *steps, validate=None, argv=None):  # noqa: N802 - reads as a table of cases
        out.append(Probe("gate", name, argv or ["ci", "--base", "main"], pr(*steps), gate_validate=validate,
                         timeout=90, is_gate=True))

    G("plain bad value", w(CFG, bad))
    G("narrow globs + bad", w("pyproject.toml", pyproject.replace('config_globs = ["configs/**/*.yaml"]', 'config_globs = ["nothing/*.yaml"]')), w(CFG, bad))
    G("move migrations + bad", w("pyproject.toml", pyproject.replace('migrations = "migrations"', 'migrations = "m2"')), w(CFG, bad))
    G("delete pyproject + bad", rm("pyproject.toml"), w(CFG, bad))
    G("pyproject garbage + bad", w("pyproject.toml", "[tool.ahsd\n"), w(CFG, bad))
    G("pyproject dir + bad", rm("pyproject.toml"), w("pyproject.toml/x", "x"), w(CFG, bad))
    G("pyproject symlink + bad", rm("pyproject.toml"), ln("pyproject.toml", "/dev/null"), w(CFG, bad))
    G("delete config", rm(CFG))
    G("rename config out of globs", mv(CFG, "other/enhanced_training.yaml"), validate=["other/enhanced_training.yaml"])
    G("rename config within globs + bad", mv(CFG, "configs/x/enhanced_training.yaml"), w("configs/x/enhanced_training.yaml", bad))
    G("rename to .yml + bad", mv(CFG, "configs/enhanced_training.yml"), w("configs/enhanced_training.yml", bad), validate=["configs/enhanced_training.yml"])
    G("new config outside globs (bad)", w("other/new.yaml", bad), validate=["other/new.yaml"])
    G("new config .yml in configs (bad)", w("configs/new.yml", bad), validate=["configs/new.yml"])
    G("new config .YAML in configs (bad)", w("configs/new.YAML", bad), validate=["configs/new.YAML"])
    G("symlink config to outside bad", w("other/bad.yaml", bad), rm(CFG), ln(CFG, "../other/bad.yaml"))
    G("symlink config to outside, later edit", w("other/bad.yaml", base), rm(CFG), ln(CFG, "../other/bad.yaml"))
    G("config becomes symlink to /dev/zero", rm(CFG), ln(CFG, "/dev/zero"))
    G("config becomes dir", rm(CFG), w(CFG + "/x.yaml", bad), validate=[CFG + "/x.yaml"])
    G("symlinked configs folder", sh("git mv configs cfg2"), ln("configs", "cfg2"), w("cfg2/enhanced_training.yaml", bad), validate=[CFG])
    G("bad + suppress comment", w(CFG, base.replace("  batch_size: 128", "  batch_size: 6  # ahsd: ignore[AHSD101] fine", 1)))
    G("bad + stamp future", w(CFG, bad.replace(f"revision: {head}", "revision: v999")))
    G("bad recorded by revision", w(CFG, bad.replace(f"revision: {head}", "revision: vpr1")), rev("vpr1", f"[{head}]", SET_BS))
    G("bad recorded by .yml revision", w(CFG, bad.replace(f"revision: {head}", "revision: vpr1")), rev("vpr1", f"[{head}]", SET_BS, name="2026-12-01_vpr1.yml"))
    G("history rewrite: edit landed revision to make bad head", sh("sed -i 's/batch_size/batch_size/' migrations/2026-11-30_v261130.yaml"), w(CFG, bad))
    G("delete a landed revision + bad", rm("migrations/2026-11-30_v261130.yaml"), w(CFG, bad.replace(f"revision: {head}", "revision: v261129b")))
    G("rename landed revision file", mv("migrations/2026-11-30_v261130.yaml", "migrations/2026-11-30_v261130x.yaml"), w(CFG, bad))
    G("add revision in subfolder + bad", w(CFG, bad.replace(f"revision: {head}", "revision: vpr1")), rev("vpr1", f"[{head}]", SET_BS, name="sub/2026-12-01_vpr1.yaml"))
    G("cycle revision", rev("vc1", "[vc2]"), rev("vc2", "[vc1]"))
    G("two heads", rev("vh1", f"[{head}]"), rev("vh2", f"[{head}]"))
    G("revision bad transform", rev("vt1", f"[{head}]", "\n- op: transform\n  name: scale\n  args: {key: priority_net.batch_size, factor: 0}\n  rationale: r\n"))
    G("revision set via list", rev("vt2", f"[{head}]", "\n- op: set\n  key: priority_net.hidden_dims.x\n  old: 1\n  new: 2\n  rationale: measured reason here\n"))
    G("revision id dash", rev("--output=x", f"[{head}]", name="2026-12-01_x.yaml"))
    G("revision id --all", rev("--all", f"[{head}]"))
    G("revision file newline name", rev("vn1", f"[{head}]", name="2026-12-01_v\nn1.yaml"))
    G("revision id newline", w("migrations/2026-12-01_vn2.yaml", f'id: "vn\\n2"\nparents: [{head}]\ndate: 2026-12-01\ntitle: t\nchanges: []\n'))
    G("revision huge chain", *[rev(f"vl{i}", f"[{'vl' + str(i - 1) if i else head}]") for i in range(300)])
    G("revision date path", w("migrations/2026-12-01_vd.yaml", f"id: vd\nparents: [{head}]\ndate: '../../x'\ntitle: t\nchanges: []\n"))
    G("revision parent self", rev("vs", "[vs]"))
    G("revision unknown parent", rev("vu", "[nope]"))
    G("revision python tag", w("migrations/2026-12-01_vp.yaml", f"id: vp\nparents: [{head}]\ndate: 2026-12-01\ntitle: !!python/object/apply:os.system ['{CMD}']\nchanges: []\n"))
    G("stamp future only", w(CFG, base.replace(f"revision: {head}", "revision: v999")))
    G("stamp base only", w(CFG, base.replace(f"revision: {head}", "revision: v11")))
    G("unstamped + bad", w(CFG, bad.replace(f"revision: {head}\n", "")))
    G("dup key bad second", w(CFG, base.replace("  batch_size: 128", "  batch_size: 128\n  batch_size: 6", 1)))
    G("dup key bad first", w(CFG, base.replace("  batch_size: 128", "  batch_size: 6\n  batch_size: 128", 1)))
    G("merge key bad", w(CFG, base.replace("  batch_size: 128", "  <<: {batch_size: 6}", 1)))
    G("gitattributes textconv", w(".gitattributes", "*.yaml diff=cat\n"), w(CFG, bad))
    G("gitattributes filter", w(".gitattributes", "*.yaml filter=x\n"), w(CFG, bad))
    G("CRLF bad", w(CFG, bad.replace("\n", "\r\n")))
    G("BOM bad", w(CFG, "\ufeff" + bad))
    G("config is submodule-like gitlink", rm(CFG), sh(f"git update-index --add --cacheinfo 160000,{'a' * 40},{CFG}"), validate=[])
    G("bad via --head", w(CFG, bad), argv=["ci", "--base", "main", "--head", "pr"])
    # By design: a pull request whose base is its own tip (or ahead of it) changes nothing, and the gate
    # says "nothing to check"; the working tree's bad config is not what `--head main` names.
    out += [Probe("gate", name, argv, pr(w(CFG, bad)), timeout=90, rcs=(0,), check=says_nothing_to_check)
            for name, argv in (("base == head", ["ci", "--base", "pr"]),
                               ("base ahead of head", ["ci", "--base", "pr", "--head", "main"]))]
    G("--repo other dir", w(CFG, bad), argv=["ci", "--base", "main", "--repo", "configs"])
    G("config globs at head bad but glob excludes via pr's pyproject only", w("pyproject.toml", pyproject + "\n"), w(CFG, bad))
    out.append(Probe("gate", "working tree dirty bad (not committed)", ["ci", "--base", "main"], pr(w(CFG, bad), commit=False),
                     gate_validate=[], timeout=90, is_gate=True))
    return out


def gitarg_probes(target: Target) -> list[Probe]:
    bad = target.text(CFG).replace("  batch_size: 128", "  batch_size: 6", 1)
    out = []
    for ref in ["--output=" + REFOUT, "-h", "main\nHEAD", "main^{/x}", "@{-1}", "HEAD:--output=x", "../x", "\udcff",
                "main..pr", "main...pr", ":/batch", "HEAD@{upstream}", "--", "", " ", "a" * 5000, "refs/heads/../x"]:
        out.append(Probe("gitargs", f"ci --base {ref[:30]!r}", ["ci", "--base", ref], pr(w(CFG, bad)), timeout=60,
                         check=wrote_refout, is_gate=True))
        out.append(Probe("gitargs", f"ci --head {ref[:30]!r}", ["ci", "--base", "main", "--head", ref], pr(w(CFG, bad)), timeout=60,
                         check=wrote_refout))
    for spec in ["--output=" + REFOUT, "HEAD:--output=" + REFOUT, f"HEAD:{CFG}", f"main:{CFG}",
                 "HEAD:nope.yaml", "HEAD:", ":", "HEAD:configs", "v11:" + CFG, "HEAD:\ndiff", "HEAD:configs/../" + CFG,
                 f"HEAD~99:{CFG}", "HEAD:/etc/passwd", "--help", "-", "\udcff:x", "HEAD:\udcff"]:
        for other in ["head", CFG]:
            out.append(Probe("gitargs", f"diff {spec[:30]!r} {other}", ["diff", spec, other], None, timeout=60,
                             check=wrote_refout))
        out.append(Probe("gitargs", f"diff -- {spec[:30]!r} head", ["diff", "--", spec, "head"], None, timeout=60,
                         check=wrote_refout))
    return out


def arg_probes(target: Target) -> list[Probe]:
    edited = target.text(CFG).replace("  batch_size: 128", "  batch_size: 96", 1)
    out = []
    S = "\udcff"
    cmds = [
        ["validate", S], ["validate", "-o", S + ".json", CFG], ["validate", "-f", S, CFG], ["validate", "--fail-on", S, CFG],
        ["explain", S], ["explain", "AHSD" + S], ["explain", "priority_net." + S], ["explain", ""], ["explain", "AHSD999"],
        ["explain", "priority_net.hidden_dims[0]"], ["explain", "priority_net.hidden_dims[x]"], ["explain", "a" * 10000],
        ["explain", "..."], ["explain", "priority_net..batch_size"], ["explain", "[0]"],
        ["log", S], ["log", ""], ["log", "priority_net.hidden_dims[99999999999999999999]"], ["log", "priority_net.batch_size[0]"],
        ["log", "."], ["log", "[x"],
        ["show", S], ["show", ""], ["show", "--"], ["show", "-x"], ["show", "v11"], ["show", "base"], ["show", "head~1"],
        ["diff", S, "head"], ["diff", "head", S], ["diff", "v11", "v11"], ["diff", "head", "v11", "--format", S],
        ["diff", "head", "v11", "--history", "--format", "markdown"], ["diff", "v15:v13", "head"],
        ["history", "-r", S], ["history", "-r", "v15:v13"], ["history", "-r", ":"], ["history", "-r", "nope:"], ["history", "-r", "v11:v11:v11"],
        ["history", "--brief"], ["heads"],
        ["stamp", CFG, S], ["stamp", CFG, ""], ["stamp", CFG, "v999"], ["stamp", CFG, "base"], ["stamp", S, "head"],
        ["migrate", CFG, "--to", S], ["migrate", CFG, "--to", ""], ["migrate", CFG, "--to", "base"], ["migrate", CFG, "--on-conflict", S],
        ["migrate", CFG, "--to", "v11"], ["migrate", CFG, "--to", "v15e", "--on-conflict", "take"],
        ["current", S], ["current", CFG],
        ["revision", "-m", S, "--from", CFG], ["revision", "-m", "t", "--from", CFG, "--id", S],
        ["revision", "-m", "t", "--from", CFG, "--id", "--output=x"], ["revision", "-m", "t", "--from", CFG, "--id", "../x"],
        ["revision", "-m", "t", "--from", CFG, "--id", "a/b"], ["revision", "-m", "t\nu", "--from", CFG],
        ["revision", "-m", "", "--from", CFG], ["revision", "-m", "t", "--from", CFG, "--id", "v11"],
        ["revision", "-m", "t", "--from", CFG, "--id", "x" * 300], ["revision", "-m", "x" * 100000, "--from", CFG],
        ["revision", "-m", "t", "--from", CFG, "--id", "head"], ["revision", "-m", "t", "--from", CFG, "--id", "base"],
        ["revision", "-m", "t", "--from", CFG, "--id", "v1.2"], ["revision", "-m", "t", "--from", CFG, "--id", "-v"],
        ["squash", S, "head"], ["squash", "v11", "v11"], ["squash", "v260707", "v260702"], ["squash", "v11", "head", "-m", "all"],
        ["squash", "v260702", "v260707", "-m", S], ["squash", "v260702", "v260707", "-m", "a\nb"], ["squash", "head", "head"],
        ["merge", "head", "head", "-m", "x"], ["merge", S, "head", "-m", "x"], ["merge", "v11", "head", "-m", "x", "--id", S],
        ["check-migrations", S], ["check-migrations", "configs"], ["check-migrations", "/"], ["check-migrations", "."],
        ["schema", "-o", "-"], ["schema", "--check", "-o", "-"],
        ["ci", "--base", "main", "--format", S], ["ci", "--base", "main", "--repo", S], ["ci", "--base", "main", "--repo", "/"],
        ["ci", "--base", "main", "--repo", "/dev/null"],
    ]
    for c in cmds:
        out.append(Probe("argv", " ".join(x[:25] for x in c).encode("utf-8", "backslashreplace").decode(), c,
                         pr(w(CFG, edited)), timeout=60))
    # revision ids & args as raw bytes through a git-dependent diff
    return out


MALFORMED_REVS = {
    "not mapping": "- a\n", "unknown field": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\nextra: 1\n",
    "id int": "id: 5\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "id dash": "id: --all\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "id newline": 'id: "v\\nm"\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n',
    "id unicode": "id: vé\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "id fullwidth digits": "id: v１\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "id head": "id: head\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "id base": "id: base\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "id dup of landed": "id: v11\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "parents int": "id: vm\nparents: [5]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "parents map": "id: vm\nparents: {a: 1}\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "parents dup": "id: vm\nparents: [PARENT, PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "parents empty (2nd base)": "id: vm\nparents: []\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "parents self": "id: vm\nparents: [vm]\ndate: 2026-12-01\ntitle: t\nchanges: []\n",
    "date int": "id: vm\nparents: [PARENT]\ndate: 20261201\ntitle: t\nchanges: []\n",
    "date bad": "id: vm\nparents: [PARENT]\ndate: 2026-13-45\ntitle: t\nchanges: []\n",
    "date list": "id: vm\nparents: [PARENT]\ndate: [2026]\ntitle: t\nchanges: []\n",
    "date path": "id: vm\nparents: [PARENT]\ndate: '2026-12-01/../../x'\ntitle: t\nchanges: []\n",
    "title map": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: {a: 1}\nchanges: []\n",
    "title huge": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: " + "x" * 200000 + "\nchanges: []\n",
    "title esc": 'id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: "\\e[2Jx"\nchanges: []\n',
    "changes map": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: {a: 1}\n",
    "change no op": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{key: a}]\n",
    "set missing old": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: priority_net.batch_size, new: 6, rationale: r}]\n",
    "set wrong old": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: priority_net.batch_size, old: 7, new: 6, rationale: r}]\n",
    "set key int": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: 5, old: 7, new: 6, rationale: r}]\n",
    "set key weird": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: 'a..b[x]', old: 7, new: 6, rationale: r}]\n",
    "set key index": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: 'priority_net.hidden_dims[0]', old: 640, new: 6, rationale: r}]\n",
    "set key index big": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: 'priority_net.hidden_dims[99999999999999999999]', old: 640, new: 6, rationale: r}]\n",
    "set through scalar": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: priority_net.batch_size.x, old: 1, new: 6, rationale: r}]\n",
    "set nan": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: priority_net.batch_size, old: 128, new: .nan, rationale: r}]\n",
    "set to map": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: priority_net, old: 1, new: {a: 1}, rationale: r}]\n",
    "add existing": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: add, key: priority_net.batch_size, value: 6, rationale: r}]\n",
    "add after int": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: add, key: priority_net.zz, value: 6, after: 5, rationale: r}]\n",
    "add after list": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: add, key: priority_net.zz, value: 6, after: [a], rationale: r}]\n",
    "add after missing": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: add, key: priority_net.zz, value: 6, after: nope, rationale: r}]\n",
    "add implicit str": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: add, key: priority_net.zz, value: 6, implicit: maybe, rationale: r}]\n",
    "add top level": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: add, key: zz, value: 6, rationale: r}]\n",
    "add revision key": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: add, key: revision, value: v11, rationale: r}]\n",
    "set revision key": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: revision, old: PARENT, new: v11, rationale: r}]\n",
    "remove missing": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: remove, key: priority_net.nope, old: 1, rationale: r}]\n",
    "remove section": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: remove, key: priority_net, old: 1, rationale: r}]\n",
    "rename to existing": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: rename, key: priority_net.batch_size, to: priority_net.epochs, rationale: r}]\n",
    "rename to self": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: rename, key: priority_net.batch_size, to: priority_net.batch_size, rationale: r}]\n",
    "rename into child": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: rename, key: priority_net, to: priority_net.x, rationale: r}]\n",
    "rename to top": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: rename, key: priority_net.batch_size, to: batch_size, was_after: 5, rationale: r}]\n",
    "transform unknown": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: os.system, args: {}, rationale: r}]\n",
    "transform scale 0": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.batch_size, factor: 0}, rationale: r}]\n",
    "transform scale nan": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.batch_size, factor: .nan}, rationale: r}]\n",
    "transform scale inf": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.batch_size, factor: .inf}, rationale: r}]\n",
    "transform scale str": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.batch_size, factor: '2'}, rationale: r}]\n",
    "transform scale huge": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.batch_size, factor: 1e308}, rationale: r}]\n",
    "transform scale tiny": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.batch_size, factor: 1e-320}, rationale: r}]\n",
    "transform scale on list": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.hidden_dims, factor: 2}, rationale: r}]\n",
    "transform scale on str": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.optimizer, factor: 2}, rationale: r}]\n",
    "transform scale extra arg": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: {key: priority_net.batch_size, factor: 2, x: 1}, rationale: r}]\n",
    "transform join_list float": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: join_list, args: {key: priority_net.learning_rate}, rationale: r}]\n",
    "transform args list": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: transform, name: scale, args: [1], rationale: r}]\n",
    "rationale int": "id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: t\nchanges: [{op: set, key: priority_net.batch_size, old: 128, new: 6, rationale: 5}]\n",
    "alias bomb": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
    "latin1": b"id: vm\nparents: [PARENT]\ndate: 2026-12-01\ntitle: caf\xe9\nchanges: []\n",
    "empty": "", "null": "~\n",
}


def revfile_probes(target: Target) -> list[Probe]:
    head = head_rev(target.root)
    bad = target.text(CFG).replace("  batch_size: 128", "  batch_size: 6", 1)
    out = []
    cmds = [("heads", ["heads"]), ("history", ["history"]), ("show", ["show"]), ("migrate", ["migrate", CFG]),
            ("migrate-down", ["migrate", CFG, "--to", "v11"]), ("check", ["check-migrations"]), ("log", ["log", "priority_net.batch_size"]),
            ("diff", ["diff", "v11", "head", "--format", "json"]), ("revision", ["revision", "-m", "t", "--from", CFG, "--id", "vq"]),
            ("current", ["current", CFG]), ("validate", ["validate", CFG]), ("squash", ["squash", "v260702", "v260707"])]
    for name, text in MALFORMED_REVS.items():
        data = text.replace("PARENT", head) if isinstance(text, str) else text.replace(b"PARENT", head.encode())
        for cname, argv in cmds:
            out.append(Probe("revfile", f"{name} :: {cname}", argv, w("migrations/2026-12-01_vm.yaml", data), timeout=60))
        out.append(Probe("gate", f"PR adds malformed revision: {name}", ["ci", "--base", "main"],
                         pr(w("migrations/2026-12-01_vm.yaml", data), w(CFG, bad.replace(f"revision: {head}", "revision: vm"))),
                         gate_validate=[CFG], timeout=90))
    return out


def probes(target: Target) -> list[Probe]:
    return gate_probes(target) + gitarg_probes(target) + arg_probes(target) + revfile_probes(target)
