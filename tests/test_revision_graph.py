"""The revision graph from in-memory lists (pure; no files)."""

from __future__ import annotations

import pytest

from ahsd_config.migrate.errors import CycleDetected, MultipleHeads, RevisionGraphError, UnknownRevision
from ahsd_config.migrate.graph import RevisionMap
from ahsd_config.migrate.model import Change, Revision, is_placeholder, parse_revision
from ahsd_config.migrate.errors import RevisionFormatError


def rev(rid, *parents, changes=()):
    return Revision(rid, tuple(parents), f"2025-01-{len(rid):02d}", rid, tuple(changes))


def setc(key, old, new):
    return Change("set", "why", key=key, old=old, new=new)


def test_linear_heads_bases_and_paths():
    m = RevisionMap(lambda: [rev("a", changes=[Change("add", "w", key="x", value=1)]), rev("b", "a", changes=[setc("x", 1, 2)]), rev("c", "b", changes=[setc("x", 2, 3)])])
    assert m.heads == ["c"] and m.bases == ["a"] and m.head == "c"
    assert [(s.revision.id, s.direction) for s in m.path("a", "c")] == [("b", "up"), ("c", "up")]
    assert [(s.revision.id, s.direction) for s in m.path("c", "a")] == [("c", "down"), ("b", "down")]
    assert m.path("b", "b") == []
    assert m.state("c") == {"x": 3} and m.state("a") == {"x": 1}
    assert m.range("a:c") == ["b", "c"]


def test_multiple_heads_named_and_merge_joins_them():
    revs = [rev("a"), rev("b", "a"), rev("c", "a")]
    with pytest.raises(MultipleHeads) as info:
        RevisionMap(revs).head
    assert info.value.heads == ["b", "c"] and "ahsd-config merge b c" in str(info.value)
    m = RevisionMap(revs + [rev("m", "b", "c")])
    assert m.head == "m" and m.get("m").is_merge
    assert [s.revision.id for s in m.path("b", "m")] == ["c", "m"]


def test_cycle_unknown_parent_duplicate_unknown_id():
    with pytest.raises(CycleDetected) as info:
        RevisionMap([rev("a", "c"), rev("b", "a"), rev("c", "b")]).order
    assert set(info.value.cycle) == {"a", "b", "c"}
    with pytest.raises(RevisionGraphError, match="parent 'zz'"):
        RevisionMap([rev("a", "zz")]).order
    with pytest.raises(RevisionGraphError, match="used twice"):
        RevisionMap([rev("a"), rev("a")]).order
    with pytest.raises(UnknownRevision) as info:
        RevisionMap([rev("a")]).get("v99")
    assert info.value.exit_code == 2


def test_revision_format_requires_rationale_and_known_ops():
    base = {"id": "v1", "parents": [], "date": "2025-01-01", "title": "t"}
    with pytest.raises(RevisionFormatError, match="rationale"):
        parse_revision({**base, "changes": [{"op": "set", "key": "a", "old": 1, "new": 2}]})
    with pytest.raises(RevisionFormatError, match="op"):
        parse_revision({**base, "changes": [{"op": "frob", "key": "a", "rationale": "x"}]})
    r = parse_revision({**base, "changes": [{"op": "set", "key": "a", "old": 1, "new": 2, "rationale": "TODO: explain why"}]})
    assert is_placeholder(r.changes[0].rationale) and not is_placeholder("BatchNorm needs 16+")


def test_landed_revision_files_are_never_edited():
    """Revisions are fixed once they land: fix a mistake with a new revision, not an edit."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    manifest = root / "tests" / "golden" / "migrations" / "chain.sha256"
    for line in manifest.read_text().splitlines():
        digest, name = line.split()
        path = root / "migrations" / name
        assert path.exists(), f"{name} was deleted; landed revisions stay"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{name} was edited after it landed"
