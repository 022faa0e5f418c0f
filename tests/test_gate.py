"""`ahsd-config ci` on real git repositories: verdicts and exit codes of the config gate.

One template repository is built per module (a pyproject with `[tool.ahsd]`, the project's config
and revision chain, one commit on `main`); each test copies it, branches `pr`, commits its change
and runs the CLI in-process from inside the copy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.gate.run import run_gate
from ahsd_config.migrate.store import load_map
from transient import TRANSIENT  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
CONFIG = "configs/enhanced_training.yaml"
PYPROJECT = '[project]\nname = "demo"\n\n[tool.ahsd]\nmigrations = "migrations"\nconfig_globs = ["configs/**/*.yaml"]\n'
FALLBACK_ROOT = 'id: v15\nparents: []\ndate: "2025-11-15"\ntitle: the config as the gate fixture starts\nchanges: []\n'


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def chain_head(migrations: Path) -> str:
    return load_map(migrations).head


def stamp(text: str, revision: str) -> str:
    """Set the top-level `revision:` (inserted before the first top-level key when absent)."""
    if re.search(r"^revision:", text, flags=re.M):
        return re.sub(r"^revision:.*$", f"revision: {revision}", text, count=1, flags=re.M)
    return re.sub(r"^(?=[a-z_]+:)", f"revision: {revision}\n", text, count=1, flags=re.M)


def set_line(text: str, section: str, key: str, value: str) -> str:
    """Rewrite `key`'s value in `section` (one level deep), keeping the line's comment."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{section}:"))
    for i in range(start + 1, len(lines)):
        m = re.match(rf"^(  {re.escape(key)}:\s*)(\S+)(.*)$", lines[i], flags=re.S)
        if m:
            lines[i] = m.group(1) + value + " " * max(len(m.group(2)) - len(value), 0) + m.group(3)
            return "".join(lines)
    raise AssertionError(f"{section}.{key} not in the config")


def get_line(text: str, section: str, key: str) -> str:
    start = text.index(f"\n{section}:")
    return re.search(rf"^  {re.escape(key)}:\s*(\S+)", text[start:], flags=re.M).group(1)


@dataclass
class Repo:
    root: Path
    head: str  # the chain's head revision at base

    def read(self, rel: str = CONFIG) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit(self, section: str, key: str, value: str, revision: str | None = None) -> str:
        """Edit one value of the config (and its stamp); returns the old value as written."""
        text = self.read()
        old = get_line(text, section, key)
        text = set_line(text, section, key, value)
        self.write(CONFIG, stamp(text, revision) if revision else text)
        return old

    def revision(self, rid: str, changes: str, parents: tuple[str, ...] | None = None) -> None:
        parents = parents if parents is not None else (self.head,)
        self.write(f"migrations/{rid}.yaml",
                   f"id: {rid}\nparents: [{', '.join(parents)}]\ndate: \"2099-01-01\"\ntitle: {rid} for a test\n"
                   f"changes:\n{changes}")

    def commit(self, message: str = "change") -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)


def set_change(key: str, old: str, new: str, rationale: str = "the 24 GB card holds 32 scenarios per step") -> str:
    return (f"  - op: set\n    key: {key}\n    old: {old}\n    new: {new}\n"
            f"    rationale: {rationale}\n")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Repo:
    root = tmp_path_factory.mktemp("origin") / "repo"
    (root / "configs").mkdir(parents=True)
    migrations = PROJECT / "migrations"
    if any(migrations.glob("*.yaml")):
        shutil.copytree(migrations, root / "migrations", ignore=TRANSIENT)
    else:  # the chain has not landed yet: one root revision stands in for it
        (root / "migrations").mkdir()
        (root / "migrations" / "v15.yaml").write_text(FALLBACK_ROOT, encoding="utf-8")
    head = chain_head(root / "migrations")
    config = (PROJECT / CONFIG).read_text(encoding="utf-8")
    (root / CONFIG).write_text(stamp(config, head), encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "README.md").write_text("demo\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Gate Test")
    git(root, "config", "user.email", "gate@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return Repo(root, head)


@pytest.fixture
def repo(template: Repo, tmp_path: Path, monkeypatch) -> Repo:
    root = tmp_path / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    git(root, "checkout", "-q", "-b", "pr")
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return Repo(root, template.head)


def ci(*args: str):
    return CliRunner().invoke(app, ["ci", "--base", "main", *args])


def out(result) -> str:
    return result.stdout + (result.stderr if result.stderr_bytes is not None else "")


# ------------------------------------------------------------------------------ the verdicts


def test_good_pull_request_passes(repo: Repo, tmp_path: Path):
    old = repo.edit("priority_net", "batch_size", "32", revision="v901")
    repo.revision("v901", set_change("priority_net.batch_size", old, "32"))
    repo.commit()
    summary = tmp_path / "summary.md"
    result = ci("--summary", str(summary))
    assert result.exit_code == 0, out(result)
    assert "gate passed" in result.stdout
    assert f"priority_net.batch_size  {old} -> 32  v901: the 24 GB card holds 32 scenarios per step" in result.stdout
    table = summary.read_text(encoding="utf-8")
    assert f"| {CONFIG} | `priority_net.batch_size` | `{old}` | `32` | v901: {old} → 32 | the 24 GB card holds 32 scenarios per step |" in table


def test_hand_edit_without_revision_fails_naming_key_values_and_command(repo: Repo):
    old = repo.edit("priority_net", "batch_size", "32")
    repo.commit("hand edit")
    result = ci()
    assert result.exit_code == 1, out(result)
    assert f"AHSD601 error priority_net.batch_size changed {old} -> 32 with no revision recording it" in result.stdout
    assert f'ahsd-config revision -m "..." --from {CONFIG}' in result.stdout
    assert (result.stdout + result.stderr).count("gate FAILED") == 1  # once, the report's last line
    assert result.stdout.rstrip().splitlines()[-1].startswith("gate FAILED: ")


def test_placeholder_rationale_fails(repo: Repo):
    old = repo.edit("priority_net", "batch_size", "32", revision="v901")
    repo.revision("v901", set_change("priority_net.batch_size", old, "32", rationale='"TODO: explain why"'))
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "FAIL  rationale" in result.stdout
    assert ("migrations/v901.yaml:10:5 AHSD603 error revision v901 changes priority_net.batch_size with the "
            "placeholder rationale 'TODO: explain why'") in result.stdout


def test_config_that_stops_validating_fails(repo: Repo):
    old = repo.edit("priority_net", "dropout", "1.5", revision="v901")
    repo.revision("v901", set_change("priority_net.dropout", old, "1.5", "more regularisation"))
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "FAIL  validate" in result.stdout
    assert "PASS  recorded" in result.stdout
    line = next(i for i, text in enumerate(repo.read().splitlines(), 1) if text.startswith("  dropout: 1.5"))
    assert f"{CONFIG}:{line}:" in result.stdout


def test_two_heads_fail_naming_both(repo: Repo):
    old = repo.edit("priority_net", "batch_size", "32", revision="v901")
    repo.revision("v901", set_change("priority_net.batch_size", old, "32"))
    repo.revision("v902", set_change("priority_net.epochs", "100", "120", "longer schedule"))
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "the revision chain has 2 heads after this pull request: v901, v902" in result.stdout
    assert 'ahsd-config merge v901 v902 -m "merge"' in result.stdout


def test_revision_that_does_not_revert_byte_identically_fails(repo: Repo):
    # Removing a key but recording the wrong neighbour: reverting puts it back in another place.
    text = repo.read()
    value = get_line(text, "priority_net", "min_variance_penalty_weight")
    text = re.sub(r"^  min_variance_penalty_weight:.*\n", "", text, count=1, flags=re.M)
    repo.write(CONFIG, stamp(text, "v901"))
    repo.revision("v901", f"  - op: remove\n    key: priority_net.min_variance_penalty_weight\n    old: {value}\n"
                          f"    after: dropout\n    rationale: the default is the value\n")
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "AHSD605 error revision v901 does not revert byte-identically" in result.stdout
    assert "PASS  recorded" in result.stdout


def test_config_left_at_the_old_head_fails_the_stamp_check(repo: Repo):
    old = repo.edit("priority_net", "batch_size", "32")  # value changed, stamp not moved
    repo.revision("v901", set_change("priority_net.batch_size", old, "32"))
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert f"AHSD602 error {CONFIG} is stamped {repo.head}; the head of the chain is v901" in result.stdout
    assert f"ahsd-config migrate {CONFIG} --to head" in result.stdout
    assert "PASS  recorded" in result.stdout


def test_editing_a_landed_revision_fails(repo: Repo):
    landed = sorted((repo.root / "migrations").glob("*.yaml"))[-1]
    landed.write_text(landed.read_text().replace("title:", "title: reworded -", 1))
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    rel = landed.relative_to(repo.root).as_posix()
    assert f"AHSD607 error {rel} is a landed revision and was edited" in result.stdout


def test_revision_whose_old_value_is_wrong_does_not_apply(repo: Repo):
    old = repo.edit("priority_net", "batch_size", "32", revision="v901")
    repo.revision("v901", set_change("priority_net.batch_size", str(int(old) + 1), "32"))
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "AHSD604 error revision v901 does not apply to configs/enhanced_training.yaml" in result.stdout
    assert f"priority_net.batch_size: revision v901 expects {int(old) + 1}, the file has {old}" in result.stdout


def test_new_config_in_a_subfolder_needs_no_revision_but_must_sit_at_head(repo: Repo):
    repo.write("configs/ablations/small.yaml", set_line(repo.read(), "priority_net", "batch_size", "16"))
    repo.write("configs/notes.txt", "not a config\n")
    repo.commit()
    result = ci()
    assert result.exit_code == 0, out(result)
    assert "configs changed: configs/ablations/small.yaml\n" in result.stdout
    assert "note: configs/ablations/small.yaml is new in this pull request" in result.stdout


def test_pull_request_touching_no_config_passes_quickly(repo: Repo):
    repo.write("README.md", "demo, now with docs\n")
    repo.commit("docs only")
    result = ci()
    assert result.exit_code == 0, out(result)
    assert "gate passed: no config or revision changes in main...HEAD, nothing to check" in result.stdout


def test_shallow_clone_without_the_base_exits_2_saying_fetch_more_history(repo: Repo, tmp_path: Path, monkeypatch):
    old = repo.edit("priority_net", "batch_size", "32")
    repo.commit()
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "pr", repo.root.as_uri(), str(clone))
    monkeypatch.chdir(clone)
    result = CliRunner().invoke(app, ["ci", "--base", "origin/main"])
    assert result.exit_code == 2, out(result)
    assert "unknown git ref 'origin/main'" in result.stderr
    assert "This clone is shallow" in result.stderr
    assert "fetch more history: `git fetch --unshallow`" in result.stderr
    assert "fetch-depth: 0" in result.stderr
    del old


def test_outside_a_git_checkout_exits_2(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["ci", "--base", "origin/main"])
    assert result.exit_code == 2
    assert "is not inside a git repository; run `ahsd-config ci` in a checkout" in result.stderr


def test_done_when_hand_edit_fails_and_recorded_edit_passes(template: Repo, tmp_path: Path, monkeypatch):
    """In a clone of a repository laid out like this one: by hand fails, with `revision` passes."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", template.root.as_uri(), str(clone))
    git(clone, "config", "user.name", "Gate Test")
    git(clone, "config", "user.email", "gate@example.invalid")
    git(clone, "checkout", "-q", "-b", "bigger-batches")
    monkeypatch.chdir(clone)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    repo = Repo(clone, template.head)
    old = repo.edit("priority_net", "batch_size", "96")
    repo.commit("batch 96 by hand")
    runner = CliRunner()
    failed = runner.invoke(app, ["ci", "--base", "origin/main"])
    assert failed.exit_code == 1, out(failed)
    assert f"priority_net.batch_size changed {old} -> 96 with no revision recording it" in failed.stdout

    record_revision("bigger batches", CONFIG)
    (new_file,) = [p for p in (clone / "migrations").glob("*.yaml") if not git(clone, "ls-files", str(p))]
    assert "TODO: explain why" in new_file.read_text()
    new_file.write_text(new_file.read_text().replace("TODO: explain why", "BatchNorm statistics steadier at 96"))
    new_id = re.search(r"^id: (\S+)", new_file.read_text(), flags=re.M).group(1)
    assert re.search(rf"^revision: {new_id}\b", Path(CONFIG).read_text(), flags=re.M)  # `revision` stamped it
    repo.commit("batch 96, recorded")
    passed = runner.invoke(app, ["ci", "--base", "origin/main"])
    assert passed.exit_code == 0, out(passed)
    assert f"priority_net.batch_size  {old} -> 96  {new_id}: BatchNorm statistics steadier at 96" in passed.stdout


def record_revision(title: str, path: str) -> None:
    result = CliRunner().invoke(app, ["revision", "-m", title, "--from", path])
    assert result.exit_code == 0, out(result)


# ---------------------------------------------------------------------------- library and output


def test_run_gate_returns_per_check_verdicts(repo: Repo):
    old = repo.edit("priority_net", "batch_size", "32")
    repo.commit()
    result = run_gate(repo.root, "main", "HEAD")
    assert {c.name: c.passed for c in result.checks} == {
        "validate": True, "stamp": True, "recorded": False, "rationale": True,
        "apply-revert": True, "single-head": True, "history": True, "settings": True,
    }
    (change,) = result.changes
    assert (change.key, str(change.old), change.new, change.recorded) == ("priority_net.batch_size", old, 32, False)


def test_github_format_annotates_the_finding_on_its_line(repo: Repo):
    repo.edit("priority_net", "batch_size", "32")
    repo.commit()
    result = ci("--format", "github")
    assert result.exit_code == 1
    line = next(i for i, text in enumerate(repo.read().splitlines(), 1) if text.startswith("  batch_size: 32"))
    (annotation,) = [x for x in result.stdout.splitlines() if x.startswith("::")]
    assert annotation.startswith(f"::error file={CONFIG},line={line},col=3,title=AHSD601 recorded::priority_net.batch_size changed")
    assert "%0Arecord it with `ahsd-config revision" in annotation


def test_annotations_put_touched_lines_first_and_cap_each_type_at_ten():
    from ahsd_config.findings import Finding
    from ahsd_config.gate.result import CheckVerdict, GateResult
    from ahsd_config.render.gate import github_annotations

    findings = [Finding("AHSD601", "error", f"finding {n}", line=n, path="c.yaml", check="recorded") for n in range(1, 13)]
    findings.append(Finding("AHSD607", "warning", "deleted", path="m.yaml", check="history"))
    result = GateResult("main", "HEAD", "0" * 40, checks=[CheckVerdict("recorded", "t", findings)],
                        touched={"c.yaml": {11, 12}})
    lines = github_annotations(result)
    errors = [x for x in lines if x.startswith("::error")]
    assert len(errors) == 10
    assert [x.rsplit("::", 1)[1] for x in errors[:3]] == ["finding 11", "finding 12", "finding 1"]
    assert errors[-1] == ("::error title=ahsd-config ci::3 more errors are not annotated here (GitHub shows 10 "
                          "per type); every finding is in the job summary")
    assert [x for x in lines if x.startswith("::warning")] == [
        "::warning file=m.yaml,line=1,col=1,title=AHSD607 history::deleted"]


def test_sarif_output_is_valid_sarif_2_1_0(repo: Repo, tmp_path: Path):
    import json

    import jsonschema

    repo.edit("priority_net", "batch_size", "32")
    repo.commit()
    sarif = tmp_path / "gate.sarif"
    assert ci("--sarif", str(sarif)).exit_code == 1
    data = json.loads(sarif.read_text())
    schema = json.loads((PROJECT.parent / "shared/external-schemas/sarif-schema-2.1.0.json").read_text()) \
        if (PROJECT.parent / "shared/external-schemas/sarif-schema-2.1.0.json").exists() else None
    if schema:
        jsonschema.validate(data, schema)
    (res,) = data["runs"][0]["results"]
    assert res["ruleId"] == "AHSD601"
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == CONFIG


def test_summary_defaults_to_github_step_summary_and_appends(repo: Repo, tmp_path: Path, monkeypatch):
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    repo.write("README.md", "more\n")
    repo.commit()
    assert ci().exit_code == 0
    text = step_summary.read_text()
    assert text.startswith("earlier step\n## ✅ ahsd-config ci: gate passed: no config or revision changes")


def test_check_migrations_on_the_project_chain_passes(template: Repo, monkeypatch):
    monkeypatch.chdir(template.root)
    result = CliRunner().invoke(app, ["check-migrations"])
    assert result.exit_code == 0, out(result)
    assert f"head {template.head}" in result.stdout


def test_check_migrations_flags_placeholders_and_two_heads(repo: Repo):
    repo.revision("v901", set_change("priority_net.epochs", "100", "120", '"TODO: explain why"'))
    repo.revision("v902", set_change("priority_net.epochs", "100", "110", "a shorter try"))
    result = CliRunner().invoke(app, ["check-migrations", "migrations"])
    assert result.exit_code == 1, out(result)
    assert "AHSD603" in result.stdout and "2 heads" in result.stdout


# ------------------------------------------------------------------------------ shipped files


def test_workflow_is_a_valid_github_workflow():
    workflow = PROJECT / ".github/workflows/config-gate.yml"
    binary = shutil.which("check-jsonschema") or (
        str(Path(__import__("sys").executable).with_name("check-jsonschema"))
        if Path(__import__("sys").executable).with_name("check-jsonschema").exists() else None)
    if binary is None:
        pytest.skip("check-jsonschema is not installed")
    proc = subprocess.run([binary, "--builtin-schema", "vendor.github-workflows", str(workflow)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = workflow.read_text()
    assert "fetch-depth: 0" in text and "security-events: write" in text
    assert 'ahsd-config ci\n          --base "origin/${{ github.base_ref }}"' in text


def test_pre_commit_hooks_expose_validate_and_migrations():
    from ruamel.yaml import YAML

    hooks = {h["id"]: h for h in YAML(typ="safe").load((PROJECT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["ahsd-config-validate"]["entry"] == "ahsd-config validate"
    assert re.search(hooks["ahsd-config-validate"]["files"], "configs/enhanced_training.yaml")
    assert not re.search(hooks["ahsd-config-validate"]["files"], "migrations/v15.yaml")
    assert hooks["ahsd-config-migrations"]["entry"] == "ahsd-config check-migrations"
    assert hooks["ahsd-config-migrations"]["pass_filenames"] is False


# ------------------------------------------------------------------ the gate's own settings


def test_pull_request_cannot_switch_the_gate_off_through_its_settings(repo: Repo):
    """Issue 9: narrowing config_globs on the PR branch used to print 'nothing to check', exit 0."""
    repo.write("pyproject.toml", PYPROJECT.replace('["configs/**/*.yaml"]', '["nothing/*.yaml"]'))
    repo.edit("priority_net", "batch_size", "6")
    repo.commit("switch the gate off")
    result = ci()
    assert result.exit_code == 1, out(result)
    assert ("pyproject.toml:1:1 AHSD610 error pyproject.toml: it changes [tool.ahsd] config_globs "
            "('configs/**/*.yaml',) -> ('nothing/*.yaml',); the gate keeps judging with the base's settings") in result.stdout
    assert "FAIL  settings" in result.stdout and "AHSD101 error priority_net.batch_size = 6" in result.stdout
    assert "AHSD601 error priority_net.batch_size changed" in result.stdout


def test_moving_the_migrations_folder_is_reported(repo: Repo):
    repo.write("pyproject.toml", PYPROJECT.replace('migrations = "migrations"', 'migrations = "elsewhere"'))
    repo.commit("move the chain")
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "AHSD610 error pyproject.toml: it changes [tool.ahsd] migrations 'migrations' -> 'elsewhere'" in result.stdout


def test_deleting_a_watched_config_fails(repo: Repo):
    (repo.root / CONFIG).unlink()
    repo.commit("delete the config")
    result = ci()
    assert result.exit_code == 1, out(result)
    assert f"AHSD611 error {CONFIG} is a config the gate watches and this pull request deletes it" in result.stdout


def test_unchanged_settings_in_a_reformatted_pyproject_pass(repo: Repo):
    repo.write("pyproject.toml", PYPROJECT + "\n# a comment\n")
    repo.commit("comment")
    result = ci()
    assert result.exit_code == 0, out(result)
    assert "nothing to check" in result.stdout


def test_user_text_never_becomes_a_git_option(repo: Repo, tmp_path: Path):
    target = tmp_path / "written-by-git"
    result = CliRunner().invoke(app, ["diff", f"--output={target}", CONFIG])
    assert result.exit_code == 2 and not target.exists(), out(result)
    result = CliRunner().invoke(app, ["diff", f"HEAD:{CONFIG}", CONFIG])
    assert result.exit_code == 0, out(result)


def test_a_revision_file_name_with_a_newline_does_not_desynchronise_the_gate(repo: Repo):
    old = repo.edit("priority_net", "batch_size", "32", revision="v901")
    repo.revision("v901", set_change("priority_net.batch_size", old, "32"))
    repo.write("migrations/odd\nname.yaml", "not: a revision\n")
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "AHSD609" in result.stdout and "Traceback" not in out(result)
    assert "PASS  recorded" in result.stdout  # v901 itself was read correctly


def test_a_revision_that_writes_through_a_value_is_a_finding_not_a_crash(repo: Repo):
    repo.revision("v901", "  - op: set\n    key: priority_net.batch_size.deeper\n    old: 1\n    new: 2\n"
                          "    rationale: nested by mistake\n")
    repo.commit()
    result = ci()
    assert result.exit_code == 1, out(result)
    assert "AHSD604 error revision v901 does not apply" in result.stdout
    assert "cannot write priority_net.batch_size.deeper" in result.stdout


def test_sarif_into_a_folder_and_a_bad_step_summary_are_one_line(repo: Repo, tmp_path: Path, monkeypatch):
    old = repo.edit("priority_net", "batch_size", "32", revision="v901")
    repo.revision("v901", set_change("priority_net.batch_size", old, "32"))
    repo.commit()
    result = ci("--sarif", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in out(result) and "Traceback" not in out(result)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))
    result = ci()
    assert result.exit_code == 2 and str(tmp_path) in out(result) and "Traceback" not in out(result)


@pytest.mark.parametrize("where", ["other/new.yaml", "configs/new.yml", "configs/New.YAML", "configs/sub/x.yml"])
def test_a_config_outside_the_globs_is_gated_all_the_same(repo: Repo, where: str):
    """Hostile pass 3: a bad config added where `config_globs` does not look (another folder, .yml,
    upper case) passed the gate, exit 0, while `validate` failed on it. A top-level priority_net
    makes a file a training config wherever it lies."""
    repo.write(where, set_line(repo.read(), "priority_net", "batch_size", "6"))
    repo.commit("a config the globs miss")
    result = ci()
    assert result.exit_code == 1, out(result)
    assert f"{where}:" in result.stdout and "AHSD101 error priority_net.batch_size = 6" in result.stdout
    assert (f"note: {where} is a training config (top-level priority_net) outside [tool.ahsd] config_globs: "
            "gated like a watched one") in result.stdout


def test_other_yaml_outside_the_globs_is_not_a_config(repo: Repo):
    repo.write(".github/workflows/ci.yaml", "on: push\njobs: {}\n")
    repo.write("other/notes.yml", "priority: high\npriority_net_notes: x\n")
    repo.commit("not configs")
    result = ci()
    assert result.exit_code == 0, out(result)
    assert "nothing to check" in result.stdout or "gate passed" in result.stdout


def test_a_git_error_is_one_line(repo: Repo):
    result = CliRunner().invoke(app, ["diff", ":", "head"])
    assert result.exit_code == 2
    assert len(out(result).strip().splitlines()) == 1, out(result)
