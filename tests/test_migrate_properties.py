"""Hypothesis: up then down is the identity (data and bytes); applying diff(A, B) to A gives B."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ahsd_config.input.loader import load_text
from ahsd_config.migrate.apply import apply_text
from ahsd_config.migrate.build import changes_between
from ahsd_config.migrate.graph import RevisionMap, Step
from ahsd_config.migrate.model import Change, Revision
from ahsd_config.migrate.state import apply_revision_plain

names = st.sampled_from([f"k{i}" for i in range(8)])
values = st.one_of(st.integers(0, 999), st.sampled_from([0.25, 0.5, 1.75, 2.0, 3.5]),
                   st.sampled_from(["adam", "relu", "x"]), st.booleans())


@st.composite
def configs(draw):
    """(text, data): two sections of scalar keys, some with end-of-line and header comments."""
    data, lines = {}, ["# generated config\n"]
    for section in ("alpha", "beta"):
        keys = draw(st.lists(names, min_size=2, max_size=6, unique=True))
        data[section] = {}
        lines.append(f"{section}:\n")
        for i, k in enumerate(keys):
            v = draw(values)
            data[section][k] = v
            if i and draw(st.booleans()):
                lines.append(f"\n  # --- group {i} ---\n")
            text = "true" if v is True else "false" if v is False else f"{v:.2f}" if isinstance(v, float) else str(v)
            line = f"  {k}: {text}"
            if draw(st.booleans()):  # aligned end-of-line comments, as hand-kept configs have them
                line = line.ljust(28) + f"# about {k}"
            lines.append(line + "\n")
    return "".join(lines), data


@st.composite
def revisions(draw, data):
    changes = []
    for section, body in data.items():
        for k, v in body.items():
            op = draw(st.sampled_from(["keep", "set", "rename"]))
            if op == "set":
                new = draw(values)  # same type: a float's notation is kept, an int has none to keep
                if type(new) is type(v) and new != v:
                    changes.append(Change("set", "why", key=f"{section}.{k}", old=v, new=new))
            elif op == "rename" and f"{k}_new" not in body:
                changes.append(Change("rename", "why", key=f"{section}.{k}", to=f"{section}.{k}_new"))
        if draw(st.booleans()):
            after = draw(st.sampled_from(list(body)))
            changes.append(Change("add", "a new key", key=f"{section}.added", value=draw(values), after=after))
    return Revision("r1", (), "2025-01-01", "generated", tuple(changes))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_up_then_down_is_identity(data):
    text, plain = data.draw(configs())
    rev = data.draw(revisions(plain))
    up = apply_text(text, [Step(rev, False)], target=None, stamp=False)
    assert up.data == apply_revision_plain(_copy(plain), rev)
    down = apply_text(up.text, [Step(rev, True)], target=None, stamp=False)
    assert down.data == plain
    assert down.text == text


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_applying_diff_a_b_to_a_gives_b(data):
    text_a, a = data.draw(configs())
    _, b = data.draw(configs())
    rev = Revision("d", (), "2025-01-01", "diff", tuple(changes_between(a, b, "why")))
    assert apply_revision_plain(_copy(a), rev) == b
    assert apply_text(text_a, [Step(rev, False)], target=None, stamp=False).data == b
    empty = changes_between(a, a, "why")
    assert empty == []


def _copy(d):
    import copy
    return copy.deepcopy(d)


@settings(max_examples=60, deadline=None)
@given(old=st.sampled_from(["0.5", "0.50", "0.10", "0.35", "0.075", "1.25", "2.0"]),
       new=st.sampled_from(["0.25", "0.5", "0.35", "0.15", "0.100", "3.0"]))
def test_a_revision_file_spelling_comes_back_on_revert(old, new):
    """The revision file records each value as the config spelled it; up then down gives the
    config's bytes back whatever the other value's padding (0.5 -> 0.25 -> 0.5, not 0.50)."""
    from ahsd_config.migrate.model import parse_revision

    if float(old) == float(new):
        return
    rev = parse_revision(load_text(
        "id: r1\nparents: []\ndate: '2025-01-01'\ntitle: t\nchanges:\n"
        f"- op: set\n  key: a.x\n  old: {old}\n  new: {new}\n  rationale: why\n", roundtrip=True).data)
    text = f"a:\n  x: {old}   # a weight\n"
    up = apply_text(text, [Step(rev, False)], target=None, stamp=False)
    assert f"  x: {new} " in up.text  # the revision's own spelling (the comment keeps its column)
    assert apply_text(up.text, [Step(rev, True)], target=None, stamp=False).text == text
