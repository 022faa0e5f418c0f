import sys; sys.path.insert(0, "/work/wt/cread/tests")
from hypothesis import given, settings, HealthCheck, strategies as st
import test_loader_roads as T
S = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@S
@given(T.construct_mapping().map(T.unique_anchors))
def test_a(text): T.check_roads(text + "\n")
@S
@given(T.construct_mapping().map(T.unique_anchors), st.lists(st.tuples(st.integers(0, 10**4), st.sampled_from(
    [" ", "\n", ":", "- ", "#", "'", '"', "[", "]", "{", "}", ",", "?", "|", ">", "&", "*", "!", "<<: ", "  "])), max_size=3))
def test_b(text, edits):
    for position, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    T.check_roads(text + "\n")
@S
@given(T.documents(), st.lists(st.tuples(st.integers(0, 10**4), st.sampled_from(
    [" ", "\t", "\n", ":", "- ", "#", "'", '"', "[", "]", "{", "}", ",", "?", "|", ">", "\r\n", "\\", "%", "@", "`"])),
    max_size=3))
def test_c(text, edits):
    for position, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    T.check_roads(text)
@S
@given(st.sampled_from(["", "---\n"]), T.wide_mapping(), st.sampled_from(["\n", "", "\n...\n"]))
def test_d(start, body, end):
    T.check_roads(start + body + end)
