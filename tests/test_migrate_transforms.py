"""The registered transforms (`scale`, `join_list`): each is undone by its inverse, leaves an absent
key alone, never edits its input, and refuses a value of the wrong type with one message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ahsd_config.migrate import transforms
from ahsd_config.migrate.errors import RevisionApplyError

KEY = "priority_net.loss_scale_factor"
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda x: abs(x) > 1e-6)


@given(value=finite, factor=finite)
def test_scale_then_its_inverse_restores_the_value(value, factor):
    data = {"priority_net": {"loss_scale_factor": value, "other": 1}}
    up = transforms.run("scale", data, {"key": KEY, "factor": factor})
    assert up["priority_net"]["loss_scale_factor"] == value * factor
    assert data["priority_net"]["loss_scale_factor"] == value  # the input is not edited
    down = transforms.run("scale", up, {"key": KEY, "factor": factor}, down=True)
    assert down["priority_net"]["loss_scale_factor"] == pytest.approx(value, rel=1e-12)
    assert down["priority_net"]["other"] == 1


@given(items=st.lists(st.text(alphabet="abcxyz_0123456789", min_size=1), min_size=1), sep=st.sampled_from([",", ";", " | "]))
def test_join_list_then_its_inverse_restores_the_list(items, sep):
    data = {"monitoring": {"metrics": list(items)}}
    args = {"key": "monitoring.metrics", "sep": sep}
    joined = transforms.run("join_list", data, args)
    assert joined["monitoring"]["metrics"] == sep.join(items)
    assert transforms.run("join_list", joined, args, down=True) == data


@pytest.mark.parametrize("name, args", [("scale", {"key": KEY, "factor": 2}), ("join_list", {"key": KEY})])
@pytest.mark.parametrize("down", [False, True])
def test_an_absent_key_is_left_alone(name, args, down):
    data = {"priority_net": {"batch_size": 24}}
    assert transforms.run(name, data, args, down=down) == data


@pytest.mark.parametrize("name, args, down, value, said", [
    ("scale", {"key": KEY, "factor": 2}, False, "big", "is 'big', not a number"),
    ("scale", {"key": KEY, "factor": 2}, True, True, "is True, not a number"),
    ("join_list", {"key": KEY}, False, "a,b", "is 'a,b', not a list"),
    ("join_list", {"key": KEY}, True, ["a"], "is ['a'], not a joined string"),
])
def test_a_value_of_the_wrong_type_is_one_apply_error(name, args, down, value, said):
    with pytest.raises(RevisionApplyError) as info:
        transforms.run(name, {"priority_net": {"loss_scale_factor": value}}, args, down=down)
    assert info.value.message == f"transform {name} on {KEY}: {KEY} {said}"
