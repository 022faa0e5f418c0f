"""The migration commands stay linear in the file (issue 9, item 4): the file is parsed a fixed
number of times whatever the number of steps, each command's work grows ~4x from N to 4N keys, and
the shortcuts that made that so give the answers of the slow ways they replaced.

Speed itself is measured in benchmarks/migrate_scale.py, not here."""

from __future__ import annotations

import copy
import difflib
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ahsd_config.api import migrations as C
from ahsd_config.api.diff import state_text
from ahsd_config.input import loader
from ahsd_config.input.loader import load_text
from ahsd_config.migrate import apply, keys, store
from ahsd_config.migrate.errors import RevisionFormatError
from ahsd_config.migrate.graph import Step
from ahsd_config.migrate.model import Change, Revision
from ahsd_config.migrate.state import apply_plain, primitive
from ahsd_config.migrate.walk import StepRecord, replay_and_record
from ahsd_config.values import MISSING
from scaling import best_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
CHAIN = ROOT / "migrations"
CORPUS = ROOT.parent / "shared" / "corpus" / "posteriflow"


@pytest.fixture(scope="module")
def rmap():
    chain = store.load_map(CHAIN)
    chain.by_id  # noqa: B018 - read once for the module
    return chain


def _listed(text: str, n: int) -> str:
    """A valid config with n more items in monitoring.metrics (no revision touches that list)."""
    return text.replace("  - gradient_norm\n", "  - gradient_norm\n" + "".join(f"  - metric_{i}\n" for i in range(n)), 1)


def _unknown(text: str, n: int) -> str:
    return text.replace("priority_net:\n", "priority_net:\n" + "".join(f"  unknown_key_{i}: {i}\n" for i in range(n)), 1)


class _Parses:
    """Counts the loader's parses of one path, by road (every parse goes through `loader._load`)."""

    def __init__(self, monkeypatch, path: Path) -> None:
        self.path, self.roundtrip, self.c = str(path), 0, 0
        real = loader._load

        def counted(text, where, roundtrip):
            if where == self.path:
                self.roundtrip += roundtrip
                self.c += not roundtrip
            return real(text, where, roundtrip)

        monkeypatch.setattr(loader, "_load", counted)

    def reset(self) -> tuple[int, int]:
        seen, self.roundtrip, self.c = (self.roundtrip, self.c), 0, 0
        return seen


# ------------------------------------------------------------------------------ parse counts
def test_migrate_parses_the_file_a_fixed_number_of_times_whatever_the_steps(tmp_path, monkeypatch, rmap):
    """Once on the round-trip road (the edit), twice on the C road (the stamp, the final check):
    from the oldest revision (every step of the real chain) as from the one before head."""
    cfg = tmp_path / "c.yaml"
    parses = _Parses(monkeypatch, cfg)
    dumps = []
    real_dump = apply.dump
    monkeypatch.setattr(apply, "dump", lambda data, like="": dumps.append(1) or real_dump(data, like))
    seen = {}
    for start in (rmap.order[0], rmap.order[-2]):
        cfg.write_text(_listed(C.show_text(start), 50))
        parses.reset()
        dumps.clear()
        result = C.migrate(cfg, "head", rmap=rmap)
        assert result.written and len(result.plan.steps) == len(rmap.path(start, "head"))
        seen[start] = (parses.reset(), len(dumps))
    assert len(rmap.path(rmap.order[0], "head")) == len(rmap.order) - 1 > 20
    assert seen[rmap.order[0]] == seen[rmap.order[-2]] == ((1, 2), 2)  # (round-trip, C), dumps


def test_read_only_commands_parse_the_file_once_on_the_c_road(tmp_path, monkeypatch, rmap):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(_unknown(C.show_text(rmap.order[0]), 50))
    parses = _Parses(monkeypatch, cfg)
    C.current(cfg, rmap)
    assert parses.reset() == (0, 1)
    result = C.diff(str(cfg), "head", rmap=rmap)
    assert result.changes and parses.reset() == (0, 1)
    cfg.write_text(_unknown(C.show_text(rmap.order[0]).replace("revision: ", "# was: "), 50)[:-1] + "\n")
    C.current(cfg, rmap)  # unstamped: inferred against every revision, from the one parse
    assert parses.reset() == (0, 1)


def test_revision_reads_the_file_once_per_road_and_the_chain_once(tmp_path, monkeypatch, rmap):
    folder = tmp_path / "chain"
    shutil.copytree(CHAIN, folder)
    chain = store.load_map(folder)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(_unknown(C.show_text("head"), 50))
    parses = _Parses(monkeypatch, cfg)
    reads = []
    real_load_revisions = store.load_revisions
    monkeypatch.setattr(store, "load_revisions", lambda f: reads.append(f) or real_load_revisions(f))
    rev = C.new_revision("t", cfg, "vscale", rmap=chain, folder=folder)
    C.stamp(cfg, rev.id, rmap=C.with_revision(chain, rev))
    assert len(rev.changes) == 50 and C.current(cfg, C.with_revision(chain, rev)).revision == "vscale"
    assert parses.reset() == (1, 2) and len(reads) == 1  # C: the record, `current`; round-trip: the stamp


# ------------------------------------------------------------------------------ N vs 4N
def _ratio(make, run, n: int = 400) -> float:
    """CPU time of `run(make(4n))` over `run(make(n))`, best of 2 each: ~4 when linear, ~16 quadratic."""
    small, large = make(n), make(4 * n)
    run(large)  # warm-up
    return best_cpu_seconds(2, lambda: run(large)) / best_cpu_seconds(2, lambda: run(small))


def test_migrate_is_linear_in_the_file(tmp_path, rmap):
    cfg = tmp_path / "c.yaml"
    oldest = C.show_text(rmap.order[0])

    def run(text):
        cfg.write_text(text)
        C.migrate(cfg, "head", rmap=rmap)

    assert _ratio(lambda n: _listed(oldest, n), run) < 8.0


def test_migrate_of_a_list_of_equal_items_is_linear(tmp_path, rmap):
    """difflib's matcher visits every equal line for each line: 8,000 equal items took 49 s (one
    step is enough: the whole text is aligned whatever the steps change)."""
    cfg = tmp_path / "c.yaml"
    oldest = C.show_text(rmap.order[-2])
    same = lambda n: oldest.replace("  - gradient_norm\n", "  - gradient_norm\n" + "  - same_metric\n" * n, 1)  # noqa: E731

    def run(text):
        cfg.write_text(text)
        C.migrate(cfg, "head", rmap=rmap)

    assert _ratio(same, run, n=1500) < 8.0


def test_diff_is_linear_in_the_file(tmp_path, rmap):
    cfg = tmp_path / "c.yaml"
    oldest = C.show_text(rmap.order[0])
    from ahsd_config.render.migrate import json_text

    def run(text):
        cfg.write_text(text)
        json_text(C.diff(str(cfg), "head", rmap=rmap))

    assert _ratio(lambda n: _unknown(oldest, n), run) < 8.0


def test_revision_is_linear_in_the_file(tmp_path, rmap):
    folder = tmp_path / "chain"
    shutil.copytree(CHAIN, folder)
    chain = store.load_map(folder)
    head = C.show_text("head")
    cfg = tmp_path / "c.yaml"
    ids = iter(range(100))

    def run(text):
        cfg.write_text(text)
        rev = C.new_revision("t", cfg, f"vscale{next(ids)}", rmap=chain, folder=folder)
        C.stamp(cfg, rev.id, rmap=C.with_revision(chain, rev))
        Path(rev.path).unlink()

    assert _ratio(lambda n: _unknown(head, n), run, n=250) < 8.0


# ------------------------------------------------------------------------------ same answers
def _states_and_corpus(rmap) -> list[dict]:
    datas = [rmap.state(r) for r in rmap.order]
    for path in sorted(CORPUS.rglob("*.yaml")) if CORPUS.is_dir() else ():
        try:
            datas.append(load_text(path.read_text(encoding="utf-8")).plain())
        except Exception:  # noqa: BLE001 - an empty corpus file is not a config
            continue
    return datas


def test_state_text_writes_what_ruamel_writes_for_every_state_and_corpus_config(rmap):
    for data in _states_and_corpus(rmap):
        assert state_text(data) == C._yaml_text(data)


# Strings YAML 1.1 and 1.2 break lines at differently (NEL, LS, PS) are left out: ruamel's writer
# turns NEL into a space, so its text is not the reference there.
_text = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FFF, blacklist_categories=("Cs",),
                              blacklist_characters="\x85\u2028\u2029"), max_size=8)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False), _text,
                     st.sampled_from(["yes", "on", "1:30", "5e-3", "010", "~", "null", "- a", "a: b", "#x",
                                      "", " a", "a ", "'q'", "[x]", "a\nb", "True", "0o17", "2001-01-01"]))
_trees = st.recursive(_scalars, lambda c: st.one_of(st.lists(c, max_size=3),
                                                    st.dictionaries(_text.filter(bool), c, max_size=3)), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_text.filter(bool), _trees, min_size=1, max_size=4))
def test_state_text_reads_back_exactly_and_quotes_where_ruamel_quotes(data):
    """Rule crossings judge `state_text`: the same values, and each scalar plain or quoted as in
    ruamel's text (what AHSD003 reads), so the same findings."""
    ours, theirs = load_text(state_text(data)), load_text(C._yaml_text(data))
    assert ours.plain() == data and _same_types(ours.plain(), data)

    def spelled(doc):
        return sorted(((s.path, s.text, s.style is None, s.tag) for s in doc.scalars()), key=repr)

    assert spelled(ours) == spelled(theirs)


def _same_types(a, b) -> bool:
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_types(x, y) for x, y in zip(a, b))
    return type(a) is type(b)


def _full_walk(data, steps, implicit=frozenset()):
    """The walk as it was: the whole config flattened before and after every change."""
    records = {}
    for step in steps:
        rev = step.revision
        for change in (reversed(rev.changes) if step.down else rev.changes):
            before = keys.flatten(data)
            data = apply_plain(data, primitive(change, step.down), implicit)
            after = keys.flatten(data)
            for key in list(before) + [k for k in after if k not in before]:
                old, new = before.get(key, MISSING), after.get(key, MISSING)
                if not keys.same(old, new):
                    records.setdefault(key, []).append(StepRecord(rev.id, rev.date, old, new, change.rationale, step.down))
    return data, records


def test_the_walk_records_what_flattening_everything_recorded_on_the_real_chain(rmap):
    for a in [None, *rmap.order[::6]]:
        for b in rmap.order[::7]:
            start = rmap.state(a) if a else {}
            path = rmap.path(a, b)
            assert _full_walk(copy.deepcopy(start), path, rmap.implicit) == \
                replay_and_record(copy.deepcopy(start), path, rmap.implicit)


_names = st.sampled_from(["a", "b", "c", "2"])
_leaf = st.one_of(st.integers(0, 3), st.sampled_from(["x", "y"]), st.builds(dict))  # a fresh {} each time
_configs = st.dictionaries(_names, st.one_of(_leaf, st.dictionaries(_names, st.one_of(_leaf, st.dictionaries(_names, _leaf, max_size=2)), max_size=3)), max_size=3)
_dotted = st.lists(_names, min_size=1, max_size=3).map(".".join)


@st.composite
def _changes(draw):
    op = draw(st.sampled_from(["set", "add", "remove", "rename"]))
    key = draw(_dotted)
    if op == "set":
        return Change("set", "why", key=key, old=draw(_leaf), new=draw(_leaf))
    if op == "add":
        return Change("add", "why", key=key, value=draw(_leaf), after=draw(st.none() | _names))
    if op == "remove":
        return Change("remove", "why", key=key, old=draw(_leaf), after=draw(st.none() | _names))
    return Change("rename", "why", key=key, to=draw(_dotted), after=draw(st.none() | _names),
                  was_after=draw(st.none() | _names))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_configs, st.lists(st.lists(_changes(), min_size=1, max_size=4), min_size=1, max_size=3), st.booleans())
def test_the_walk_records_what_flattening_everything_recorded(start, revisions, down):
    """Sets, adds, removes and moves (across sections, into and out of empty ones, onto values):
    comparing only the keys a change can touch records the same steps in the same order."""
    steps = [Step(Revision(f"r{i}", (), "2025-01-01", "t", tuple(changes)), down) for i, changes in enumerate(revisions)]
    try:
        expected = _full_walk(copy.deepcopy(start), steps)
    except Exception as exc:  # noqa: BLE001 - a change through a value: both walks refuse it alike
        with pytest.raises(type(exc)):
            replay_and_record(copy.deepcopy(start), steps)
        return
    assert replay_and_record(copy.deepcopy(start), steps) == expected


def test_line_opcodes_are_difflibs_below_the_bound_and_valid_above_it(monkeypatch):
    import random

    rng = random.Random(9)
    for _ in range(400):
        a = [str(rng.randrange(3)) for _ in range(rng.randrange(30))]
        b = [x if rng.random() < 0.8 else "x" for x in a] + [str(rng.randrange(4)) for _ in range(rng.randrange(3))]
        assert apply.line_opcodes(a, b) == difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        for bound in (0, 4):  # the anchored road, at every depth
            monkeypatch.setattr(apply, "MATCHER_VISITS", bound)
            _assert_valid(apply.line_opcodes(a, b), a, b)
        monkeypatch.undo()
    same = ["  - same\n"] * 20_000
    assert apply.line_opcodes(["h\n", *same, "t\n"], ["h2\n", *same, "t\n", "u\n"]) == [
        ("replace", 0, 1, 0, 1), ("equal", 1, 20_002, 1, 20_002), ("insert", 20_002, 20_002, 20_002, 20_003)]


def _assert_valid(ops, a, b) -> None:
    i = j = 0
    for tag, i1, i2, j1, j2 in ops:
        assert (i1, j1) == (i, j)
        assert tag != "equal" or a[i1:i2] == b[j1:j2]
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))


def test_a_revision_too_large_to_read_back_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    """Past the loader's node cap (~18,000 added keys at 200,000 nodes) the new revision file could
    never be read again: refused as such, not as an alias bomb in a file that does not exist."""
    folder = tmp_path / "chain"
    shutil.copytree(CHAIN, folder)
    chain = store.load_map(folder)
    chain.by_id  # noqa: B018 - read before the cap is lowered
    cfg = tmp_path / "c.yaml"
    cfg.write_text(_unknown(C.show_text("head"), 100))
    monkeypatch.setattr(loader, "MAX_EXPANDED_NODES", 1000)  # the config fits, its revision does not
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(RevisionFormatError) as caught:
        C.new_revision("t", cfg, "vbig", rmap=chain, folder=folder)
    assert "would not read back" in str(caught.value) and "nothing was written" in str(caught.value)
    assert sorted(p.name for p in folder.iterdir()) == before
