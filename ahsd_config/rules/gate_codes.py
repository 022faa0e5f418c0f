"""The pull-request gate's codes (AHSD6xx), documented like the rules so `ahsd-config explain`
knows every code the product prints. The gate (`ahsd_config/gate/`) decides; this table only
explains. `tests/test_gate_codes.py` fails when the gate has a code this table lacks, or the
other way round.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateCode:
    code: str
    check: str  # the gate check that reports it (`ahsd-config ci` prints the check's name)
    title: str
    why: str
    fix: str


GATE_CODES: dict[str, GateCode] = {c.code: c for c in (
    GateCode("AHSD601", "recorded", "a value changed that no revision in the pull request records",
             "a hand edit leaves no record of why the value moved; the next reader of the config (or "
             "the next incident review) cannot tell a deliberate change from an accident",
             "record the edit: `ahsd-config revision -m TITLE --from CONFIG`, then write each rationale"),
    GateCode("AHSD602", "stamp", "a config's `revision:` stamp is not the single head of the chain",
             "a config behind (or beside) the head was not migrated: the values it holds are not the "
             "ones the chain says it should hold",
             "`ahsd-config migrate CONFIG --to head` (or `ahsd-config stamp CONFIG head` when the values "
             "already match)"),
    GateCode("AHSD603", "rationale", "an added revision has an empty or placeholder rationale",
             "a revision exists to remember why a value changed; 'TODO: explain why' remembers nothing",
             "replace every placeholder in the new revision file with the reason, in a sentence"),
    GateCode("AHSD604", "apply-revert", "an added revision does not apply cleanly to its parent state",
             "a step whose expected old value is not the parent's value would silently overwrite a "
             "value someone else changed",
             "regenerate the revision from the edited config with `ahsd-config revision --from`"),
    GateCode("AHSD605", "apply-revert", "reverting an added revision does not restore its parent state",
             "a revision must be reversible byte for byte (comments, key order, number style), or "
             "`migrate --to` an older revision changes more than the chain says",
             "make each change's `old` the exact parent value; for a transform, use one with an inverse"),
    GateCode("AHSD606", "single-head", "the revision chain has more than one head (or none: a cycle)",
             "two heads mean two histories of the same config; `head` would be ambiguous",
             "`ahsd-config merge HEAD1 HEAD2 -m TITLE` joins them"),
    GateCode("AHSD607", "history", "a landed revision was edited or deleted",
             "configs stamped at that revision elsewhere would silently mean something else",
             "restore the landed file and fix the mistake with a new revision"),
    GateCode("AHSD608", "validate", "a changed config does not parse",
             "a config that cannot be read cannot be checked, migrated or trained",
             "run `ahsd-config validate CONFIG` on the pull request's version and fix the line it names"),
    GateCode("AHSD609", "history", "a revision file is malformed",
             "the chain is data every command reads; a malformed file breaks migrate, diff and the gate",
             "fix the file as the message says (field, op, transform name and arguments)"),
    GateCode("AHSD610", "settings", "the pull request changes the gate's own settings",
             "`[tool.ahsd]` config_globs and migrations decide what the gate checks; a pull request "
             "that narrows them could switch its own gate off, so the base's settings judge it",
             "change the gate's settings in a pull request of their own, merged on purpose by a "
             "maintainer: the gate cannot approve a change to its own rules"),
    GateCode("AHSD611", "validate", "a config the gate watches was deleted",
             "a deleted config passes every per-file check by having no file; it must be said aloud",
             "keep the file; to stop watching it, change [tool.ahsd] config_globs in a pull request "
             "of its own (reported as AHSD610, merged on purpose)"),
)}


def get_gate_code(code: str) -> GateCode:
    return GATE_CODES[code]
