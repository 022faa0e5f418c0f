"""Everything the product writes reads back the same under YAML 1.1 and 1.2 and validates clean.

One hypothesis property over every writer: `show`, `migrate` (set and add), `revision`, `squash`,
`merge`, doctor drafts (`store.dump_revision`, the writer `propose_migration` uses) and the run's
`config.resolved.yaml` (`runlog.dump_yaml`). For any float, the text each writes is read by PyYAML
(the user's YAML 1.1 pipeline) exactly as by `ahsd-config` (YAML 1.2), and a config it writes has
no AHSD003 finding. The class of bug: `8e-05`, `5e-3`, `1e5` (strings to PyYAML) and int mapping
keys written as strings.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ahsd_config.input.loader import load_text
from ahsd_config.api import migrations as commands
from ahsd_config.migrate.graph import RevisionMap
from ahsd_config.migrate.model import Change, Revision
from ahsd_config.migrate.store import dump_revision
from ahsd_config.api.validate import validate_document

KEY = "priority_net.learning_rate"
floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300).filter(
    lambda x: x != 0.5)
# spellings a user's file may hold for the value a migration replaces (the last two are YAML 1.1
# strings already: the product's replacement must not copy that flaw)
OLD_SPELLINGS = ["0.5", "0.50", "5.0e-1", "5.00E-01", "5e-1"]


def base(value: float = 0.5) -> Revision:
    return Revision("r1", (), "2026-01-01", "base", (Change("add", "why", key=KEY, value=value),))


def chain(*revs: Revision) -> RevisionMap:
    return RevisionMap(list(revs))


def write_show(v: float, tmp: Path) -> str:
    return commands.show_text("r1", chain(base(v)))


def write_migrate_set(v: float, tmp: Path, old: str = "0.5") -> str:
    rmap = chain(base(), Revision("r2", ("r1",), "2026-01-02", "set", (Change("set", "why", key=KEY, old=0.5, new=v),)))
    return commands.apply_revision(f"revision: r1\npriority_net:\n  learning_rate: {old}  # lr\n", "r2", rmap=rmap).text


def write_migrate_add(v: float, tmp: Path) -> str:
    rmap = chain(base(), Revision("r2", ("r1",), "2026-01-02", "add",
                                  (Change("add", "why", key="priority_net.min_lr", value=v),)))
    return commands.apply_revision("revision: r1\npriority_net:\n  learning_rate: 0.5\n", "r2", rmap=rmap).text


def write_revision(v: float, tmp: Path) -> str:
    (tmp / "src").mkdir()
    source = tmp / "src" / "edited.yaml"  # outside the revisions folder: it is a config, not a revision
    source.write_text(f"priority_net:\n  learning_rate: {0.125 if v == 0.25 else 0.25}\n")
    (tmp / "chain").mkdir()
    rev = commands.new_revision("edit", source, rev_id="r2", rmap=chain(base(v)), folder=tmp / "chain")
    return Path(rev.path).read_text()


def write_squash(v: float, tmp: Path) -> str:
    r2 = Revision("r2", ("r1",), "2026-01-02", "a", (Change("set", "why", key=KEY, old=0.5, new=v),))
    r3 = Revision("r3", ("r2",), "2026-01-03", "b", (Change("set", "why", key=KEY, old=v, new=v / 3),))
    return Path(commands.squash("r2", "r3", rmap=chain(base(), r2, r3), folder=tmp).path).read_text()


def write_merge(v: float, tmp: Path) -> str:
    a = Revision("a", ("r1",), "2026-01-02", "a", (Change("set", "why", key=KEY, old=0.5, new=v),))
    b = Revision("b", ("r1",), "2026-01-02", "b", ())
    return Path(commands.merge("a", "b", "join", rev_id="m", rmap=chain(base(), a, b), folder=tmp).path).read_text()


def write_doctor_draft(v: float, tmp: Path) -> str:
    # doctor.propose_migration writes its draft with store.dump_revision: halved values, as here
    return dump_revision(Revision("d", ("r1",), "2026-01-02", "draft",
                                  (Change("set", "TODO: explain why", key=KEY, old=v, new=v / 2),)))


def write_resolved(v: float, tmp: Path) -> str:
    from ahsd_train.run.runlog import dump_yaml

    return dump_yaml({"priority_net": {"learning_rate": v, "hidden_dims": (32, 16)},
                      "neural_posterior": {"flow_config": {"per_param_tail_bounds": {0: v, 10: 3.0}}}})


CONFIG_WRITERS = [write_show, write_migrate_set, write_migrate_add, write_resolved]
REVISION_WRITERS = [write_revision, write_squash, write_merge, write_doctor_draft]


def same(a, b) -> bool:
    """Deep equality with exact float and int identity (1.0 is not 1, '1e-05' is not 1e-05)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(type(k) is type(j) for k, j in zip(a, b)) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is float and type(b) is float and (a == b or (math.isnan(a) and math.isnan(b)))
    return type(a) is type(b) and a == b


def plain(value):
    """ruamel's ScalarFloat / CommentedMap / CommentedSeq as plain Python values."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return float(value)
    return value


@pytest.mark.parametrize("writer", CONFIG_WRITERS + REVISION_WRITERS, ids=lambda w: w.__name__[6:])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=floats)
def test_every_writer_is_read_alike_by_yaml_1_1_and_1_2_and_validates_clean(writer, value, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w")
    text = writer(value, tmp)
    ours = plain(load_text(text, "<written>").plain())
    assert same(pyyaml.safe_load(text), ours), text
    if writer in CONFIG_WRITERS:
        findings = validate_document(load_text(text, "<written>")).findings
        assert [f.message for f in findings if f.code == "AHSD003"] == [], text


@pytest.mark.parametrize("old", OLD_SPELLINGS)
@settings(max_examples=15, deadline=None)
@given(value=floats)
def test_migrate_keeps_a_safe_spelling_whatever_the_old_one(old, value):
    text = write_migrate_set(value, Path("."), old)
    assert same(pyyaml.safe_load(text)["priority_net"]["learning_rate"], value), text


def test_the_resolved_config_of_the_project_validates_to_the_same_config():
    from ahsd_config.api import load_config
    from ahsd_config.schema import TrainingConfig
    from ahsd_train.run.runlog import dump_yaml

    config = load_config(Path(__file__).resolve().parents[1] / "configs" / "enhanced_training.yaml").config
    text = dump_yaml(config.model_dump(mode="python"))
    report = validate_document(load_text(text, "config.resolved.yaml"))
    assert [f.code for f in report.findings if f.severity == "error" or f.code == "AHSD003"] == []
    assert TrainingConfig.model_validate(load_text(text).plain()) == config


def test_a_run_repeats_from_its_own_config_resolved_yaml(tmp_path):
    """`ahsd-train run --config RUN/config.resolved.yaml` trains the same run (same step losses)."""
    import torch

    from ahsd_train.run import trainer
    from test_train_support import options

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        first = trainer.run(options(tmp_path / "a", max_steps=3)).run_dir
        again = trainer.run(trainer.RunOptions(config_path=first / "config.resolved.yaml", device="cpu",
                                               out=tmp_path / "b", max_steps=3)).run_dir
    finally:
        torch.set_num_threads(before)
    resolved = load_text((first / "config.resolved.yaml").read_text(), "config.resolved.yaml")
    from ahsd_config.api import load_config
    from test_train_support import CONFIG, TINY

    source = load_config(CONFIG, TINY).report.findings  # the config's own advice (AHSD104), no more
    assert sorted(f.code for f in validate_document(resolved).findings if f.severity != "info") == sorted(
        f.code for f in source if f.severity != "info")

    def losses(run):
        import json

        return [r["loss"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
                if r["kind"] == "step"]

    assert losses(again) == losses(first) and len(losses(first)) == 3
