"""A failed `ahsd-train compare` leaves the file system as it was, except a side's run that started
(kept, and named in the error). Fault injection at every point of a comparison: the write of A.yaml
or B.yaml (ENOSPC after the file was replaced), and each side's run refused before its folder,
after its folder, and failed after its run.json; over every state of --out (absent with its
parent, absent, empty, holding an earlier A.yaml)."""

from __future__ import annotations

import errno
from pathlib import Path
from types import SimpleNamespace

import pytest

from ahsd_train.errors import AhsdTrainError, RunInterrupted
from ahsd_train.review import compare
from ahsd_train.run import setup, trainer

STAGES = ("write", "before_dir", "after_dir", "after_runjson")
OUT_STATES = {
    "absent_parent": lambda root: root / "new" / "o",
    "absent": lambda root: root / "o",
    "empty": lambda root: (root / "o").mkdir() or root / "o",
    "earlier_yaml": lambda root: ((root / "o").mkdir(), (root / "o" / "A.yaml").write_text("mine\n"))[0] or root / "o",
}


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def inject(monkeypatch, side: str, stage: str) -> None:
    """Side `side` fails at `stage`; the other side's run finishes (a folder with run.json)."""
    monkeypatch.setattr(compare, "resolve", lambda spec: compare.Side(spec, f"random_seed: 1\n# {spec}\n", None))
    monkeypatch.setattr(compare, "differing", lambda a, b: [])
    real_write = compare.atomic_write

    def write(path, text, *args, **kwargs):
        if stage == "write" and Path(path).name == f"{side}.yaml":
            real_write(path, "half")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, text, *args, **kwargs)

    def run(opts, observer, *hooks):
        failing = opts.config_path.stem == side
        if failing and stage == "before_dir":
            raise AhsdTrainError("preflight failed")
        opts.out.mkdir()
        if failing and stage == "after_dir":
            raise AhsdTrainError("refused after making the run folder")
        (opts.out / "run.json").write_text('{"status": "failed"}' if failing else '{"status": "finished"}')
        if failing:
            raise RunInterrupted("interrupted at step 3") if side == "A" else AhsdTrainError("the run failed")

    monkeypatch.setattr(compare, "atomic_write", write)
    monkeypatch.setattr(trainer, "run", run)
    monkeypatch.setattr(setup, "prepare", lambda opts: SimpleNamespace(config=None))


@pytest.mark.parametrize("out_state", sorted(OUT_STATES))
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("side", "AB")
def test_a_failed_compare_leaves_only_the_runs_that_started_and_names_them(tmp_path, monkeypatch, side, stage,
                                                                          out_state):
    out = OUT_STATES[out_state](tmp_path)
    inject(monkeypatch, side, stage)
    before = tree(tmp_path)
    with pytest.raises((AhsdTrainError, OSError)) as info:
        compare.compare("v1", "v2", epochs=1, scenarios=8, out=out)
    kept = (["A"] if side == "B" else []) + ([side] if stage == "after_runjson" else [])
    expected = dict(before)
    for label in kept:
        run = out / f"run-{label}"
        for folder in reversed([p for p in (run, *run.parents) if p.is_relative_to(tmp_path) and p != tmp_path]):
            expected.setdefault(str(folder.relative_to(tmp_path)), None)
        expected[str((run / "run.json").relative_to(tmp_path))] = (run / "run.json").read_bytes()
    assert tree(tmp_path) == expected
    assert [label for label in "AB" if f"{out / f'run-{label}'}" in str(info.value)] == kept
    if stage == "after_runjson":  # an interrupted side keeps its exit code (130) with the note
        assert info.value.exit_code == (130 if side == "A" else 2)


def test_a_side_the_schema_rejects_is_one_line_naming_its_spec_not_the_taken_back_file(tmp_path, monkeypatch):
    """Its findings named out/A.yaml:line:col, a file the failed comparison takes back."""
    from ahsd_config.errors import ConfigInvalid

    inject(monkeypatch, "A", "before_dir")
    finding = SimpleNamespace(severity="error", message="priority_net.batch_size = 'abc' is a string; expected int")

    def rejected(opts, observer, *hooks):
        raise ConfigInvalid(f"{opts.config_path}: 1 error finding(s)", [SimpleNamespace(findings=[finding])])

    monkeypatch.setattr(trainer, "run", rejected)
    with pytest.raises(AhsdTrainError) as info:
        compare.compare("bad.yaml", "head", epochs=1, scenarios=8, out=tmp_path / "o")
    assert str(info.value) == ("A = bad.yaml: the config cannot run, even forced: priority_net.batch_size = 'abc' "
                               "is a string; expected int")
    assert not (tmp_path / "o").exists()
