"""Hostile config texts: name -> bytes, each one edit of the project's own config.

A payload that would run code runs `touch "$HOSTILE_PWN"`; the harness sets that variable to a file in
the probe's folder and flags CODE EXECUTED when it appears.
"""

from __future__ import annotations

import re
from pathlib import Path

CFG = "configs/enhanced_training.yaml"
CMD = 'touch "$HOSTILE_PWN"'
SECTION = "priority_net:                               # the model"


def head_rev(root: Path) -> str:
    """The revision the project config is stamped at (the chain's head on a clean checkout)."""
    found = re.search(r"^revision: (\S+)", (root / CFG).read_text(), re.M)
    if not found:
        raise LookupError(f"no `revision:` line in {CFG}")
    return found.group(1)


def payloads(root: Path) -> dict[str, bytes]:
    """Every payload, built from root's config (an edit whose anchor text is gone fails loudly)."""
    B = (root / CFG).read_bytes()
    stamp = f"revision: {head_rev(root)}"

    def sub(old: str, new: str, text: bytes = B) -> bytes:
        o = old.encode()
        if o not in text:
            raise LookupError(f"payload anchor {old!r} is no longer in {CFG}: update payloads.py")
        return text.replace(o, new.encode() if isinstance(new, str) else new, 1)

    def bs(val: str) -> bytes:
        return sub("  batch_size: 128", f"  batch_size: {val}")

    p: dict[str, bytes] = {}
    # duplicates
    p["dup-nested"] = sub(SECTION, "priority_net:\n  batch_size: 6\n  #")
    p["dup-top-section"] = B + b"\npriority_net:\n  batch_size: 6\n"
    p["dup-revision"] = sub(stamp, stamp + "\nrevision: v11")
    p["dup-int-key"] = sub(SECTION, "priority_net:\n  1: a\n  1: b\n  #")
    p["dup-int-vs-str"] = sub(SECTION, "priority_net:\n  1: a\n  '1': b\n  #")
    p["dup-bool-key"] = sub(SECTION, "priority_net:\n  yes: a\n  true: b\n  #")
    p["dup-null-key"] = sub(SECTION, "priority_net:\n  ~: a\n  null: b\n  #")
    p["dup-via-merge"] = sub(SECTION,
                             "base: &b {batch_size: 6}\npriority_net:\n  <<: *b\n  #")
    p["merge-key-override"] = sub("  batch_size: 128", "  <<: {batch_size: 6}\n  batch_size_x: 1")
    p["merge-only"] = sub("  batch_size: 128", "  <<: {batch_size: 6}")
    p["dotted-top-key"] = B + b"\n\"priority_net.batch_size\": 6\n"
    p["dup-flow"] = bs("128\n  x: {a: 1, a: 2}")
    # tags on values and keys
    for i, tag in enumerate([
        f"!!python/object/apply:os.system ['{CMD}']",
        "!!python/name:os.system",
        f"!!python/object/new:os.system ['{CMD}']",
        "!!python/module:os",
        f"!<tag:yaml.org,2002:python/object/apply:os.system> ['{CMD}']",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!omap [a: 1]",
        "!!pairs [a: 1]",
        "!!timestamp 2001-12-14",
        "!custom 6",
        "!!int '6'",
        "!!float '6'",
        "!!str 128",
        "!!bool yes",
        "!!null ''",
        "!!int 0x80",
        "! 128",
    ]):
        p[f"tag-value-{i}"] = bs(tag)
    p["tag-directive"] = b"%TAG !p! tag:yaml.org,2002:python/\n---\n" + bs(f"!p!object/apply:os.system ['{CMD}']")
    p["tag-key"] = sub("  batch_size: 128", f"  ? !!python/object/apply:os.system ['{CMD}']\n  : 1\n  batch_size: 128")
    p["tag-key-str"] = sub("  batch_size: 128", "  !!str batch_size: 6\n  batch_size_: 128")
    p["tag-on-section"] = sub(SECTION,
                              "priority_net: !!python/object/apply:collections.OrderedDict\n  #")
    p["complex-key"] = sub("  batch_size: 128", "  ? [a, b]\n  : 1\n  batch_size: 128")
    p["complex-key-map"] = sub("  batch_size: 128", "  ? {a: 1}\n  : 1\n  batch_size: 128")
    # alias bombs
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]\n" for i in range(1, 10))
    p["alias-bomb"] = B + b"\nbomb:\n" + "".join("  " + l + "\n" for l in bomb.splitlines()).encode()
    p["alias-bomb-keys"] = b"a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} {{? *a{i-1} : 1, ? [*a{i-1}, *a{i-1}] : 2}}\n" for i in range(1, 12)).encode()
    p["alias-self"] = b"a: &a [*a]\n"
    p["alias-undefined"] = bs("*nowhere")
    p["alias-value-section"] = sub(SECTION, "pn_copy: &pn\n  batch_size: 6\npriority_net:\n  <<: *pn\n  #")
    p["anchor-reuse-section"] = B.replace(SECTION.encode(), b"priority_net: &pn                           # the model", 1) + b"\nneural_posterior_copy: *pn\n"
    # depth
    p["deep-flow-list"] = bs("[" * 5000 + "]" * 5000)
    p["deep-flow-map"] = bs("{a: " * 3000 + "1" + "}" * 3000)
    p["deep-block"] = B + b"\n" + b"".join(b"  " * i + b"k:\n" for i in range(2000)) + b"  " * 2000 + b"k: 1\n"
    p["deep-100"] = B + b"\nx: " + b"[" * 100 + b"]" * 100 + b"\n"
    # numbers
    for name, v in [("huge-int", "9" * 400), ("huge-hex", "0x" + "f" * 300), ("int64+1", str(2**63)),
                    ("neg-int", "-1"), ("zero", "0"), ("float-int", "128.0"), ("nan", ".nan"), ("inf", ".inf"),
                    ("ninf", "-.inf"), ("e400", "1e400"), ("e-400", "1e-400"), ("underscore", "1_28"),
                    ("octal11", "0200"), ("octal12", "0o200"), ("sexagesimal", "2:08"), ("bool", "true"),
                    ("yes", "yes"), ("str", "'128'"), ("list", "[128]"), ("map", "{v: 128}"), ("null", "~"),
                    ("empty", ""), ("binary-int", "0b10000000"), ("NaN-str", "NaN"), ("inf-str", "Infinity"),
                    ("huge-float", "1" + "0" * 400 + ".0"), ("float-huge-exp", "1e99999999999")]:
        p[f"num-{name}"] = bs(v)
    p["lr-nan"] = sub("  learning_rate: 1.0e-3", "  learning_rate: .nan")
    p["lr-inf"] = sub("  learning_rate: 1.0e-3", "  learning_rate: .inf")
    p["lr-huge"] = sub("  learning_rate: 1.0e-3", "  learning_rate: " + "9" * 400)
    p["lr-negzero"] = sub("  learning_rate: 1.0e-3", "  learning_rate: -0.0")
    p["lr-str"] = sub("  learning_rate: 1.0e-3", "  learning_rate: 1e-3")
    p["hidden-dims-nested"] = sub("  hidden_dims: [640, 512, 384, 256]", "  hidden_dims: [640, [512], 384]")
    p["hidden-dims-str"] = sub("  hidden_dims: [640, 512, 384, 256]", "  hidden_dims: abc")
    p["hidden-dims-huge"] = sub("  hidden_dims: [640, 512, 384, 256]", "  hidden_dims: [" + ", ".join(["640"] * 50000) + "]")
    p["hidden-dims-nan"] = sub("  hidden_dims: [640, 512, 384, 256]", "  hidden_dims: [.nan, .inf]")
    p["hidden-dims-empty"] = sub("  hidden_dims: [640, 512, 384, 256]", "  hidden_dims: []")
    p["hidden-dims-map"] = sub("  hidden_dims: [640, 512, 384, 256]", "  hidden_dims: {0: 640}")
    # unicode and bytes
    p["surrogate-value"] = sub('experiment_name: "AHSD_Phase2_PriorityNet"', 'experiment_name: "\\ud800"')
    p["surrogate-key"] = sub("  batch_size: 128", '  "\\udcff": 1\n  batch_size: 128')
    p["surrogate-pair-escaped"] = sub('experiment_name: "AHSD_Phase2_PriorityNet"', 'experiment_name: "\\ud83d\\ude00"')
    p["raw-surrogate-bytes"] = B.replace(b'"AHSD_Phase2_PriorityNet"', b'"\xed\xa0\x80"', 1)
    p["bom"] = b"\xef\xbb\xbf" + B
    p["bom-twice"] = b"\xef\xbb\xbf\xef\xbb\xbf" + B
    p["bom-middle"] = sub("  batch_size: 128", "  batch_size: 128\n\ufeffx: 1")
    p["utf16"] = B.decode().encode("utf-16")
    p["utf16-nobom"] = B.decode().encode("utf-16-le")
    p["utf32"] = B.decode().encode("utf-32")
    p["crlf"] = B.replace(b"\n", b"\r\n")
    p["cr-only"] = B.replace(b"\n", b"\r")
    p["mixed-eol"] = B.replace(b"\n", b"\r\n", 20)
    p["tab-indent"] = sub("  batch_size: 128", "\tbatch_size: 128")
    p["tab-after-colon"] = sub("  batch_size: 128", "  batch_size:\t128")
    p["nul"] = sub("  batch_size: 128", "  batch_size: 12\x008")
    p["ctrl-bel"] = sub("  batch_size: 128", "  batch_size: 128\x07")
    p["esc-in-quoted-key"] = sub("  batch_size: 128", '  "\\e[2J\\e[31mred": 1\n  batch_size: 128')
    p["esc-in-quoted-value"] = sub('experiment_name: "AHSD_Phase2_PriorityNet"', 'experiment_name: "\\e]0;pwn\\a\\e[2J"')
    p["esc-raw"] = sub("  batch_size: 128", "  batch_size: 128 # \x1b[2J")
    p["latin1"] = sub("  batch_size: 128", "  batch_size: 128 # caf\xe9").replace("caf\xe9".encode(), b"caf\xe9")
    p["latin1-key"] = sub("  batch_size: 128", "  b\xe9: 1\n  batch_size: 128").replace("b\xe9".encode(), b"b\xe9")
    p["overlong-utf8"] = sub("  batch_size: 128", "  batch_size: 128 # X").replace(b"# X", b"# \xc0\xaf")
    p["nel"] = sub("  batch_size: 128", "  batch_size: 128\u0085  x: 1")
    p["ls"] = sub("  batch_size: 128", "  batch_size: 128\u2028")
    p["zero-width-key"] = sub("  batch_size: 128", "  batch_size\u200b: 6\n  batch_size: 128")
    p["homoglyph-key"] = sub("  batch_size: 128", "  bаtch_size: 6\n  batch_size: 128")  # cyrillic a
    p["nbsp"] = sub("  batch_size: 128", "\u00a0 batch_size: 128")
    # structure
    p["empty"] = b""
    p["only-comment"] = b"# nothing\n"
    p["only-docstart"] = b"---\n"
    p["null-doc"] = b"~\n"
    p["scalar-doc"] = b"hello\n"
    p["list-doc"] = b"- a\n- b\n"
    p["two-docs"] = B + b"---\npriority_net:\n  batch_size: 6\n"
    p["two-docs-second-bad"] = b"---\n" + B + b"\n...\n---\n: :\n"
    p["doc-end"] = B + b"...\ngarbage: [\n"
    p["yaml-directive"] = b"%YAML 1.1\n---\n" + B
    p["yaml-directive-9"] = b"%YAML 9.9\n---\n" + B
    p["section-null"] = sub(SECTION,
                            "priority_net: ~\npriority_net_old:\n  #")
    p["section-list"] = B.replace(SECTION.encode(), b"priority_net_: #", 1) + b"\npriority_net: [1, 2]\n"
    p["section-scalar"] = B.replace(SECTION.encode(), b"priority_net_: #", 1) + b"\npriority_net: 5\n"
    # revision stamps
    for name, v in [("future", "v999"), ("int", "15"), ("list", "[v15]"), ("map", "{a: b}"), ("null", "~"),
                    ("path", "../../etc/passwd"), ("dash", "--output=x"), ("newline", '"v15\\nv13"'),
                    ("bool", "true"), ("float", "1.5"), ("old", "v11"), ("empty", "''"), ("space", "'v15 '"),
                    ("base-word", "base"), ("head-word", "head"), ("surrogate", '"\\udcff"'), ("huge", "9" * 400),
                    ("date", "2025-11-15"), ("nan", ".nan")]:
        p[f"rev-{name}"] = sub(stamp, f"revision: {v}")
    p["rev-missing"] = sub(stamp, "")
    # suppressions
    p["suppress-bad"] = bs("6  # ahsd: ignore[AHSD101] BatchNorm ok")
    p["suppress-all"] = bs("6  # ahsd: ignore[*] everything")
    p["suppress-noreason"] = bs("6  # ahsd: ignore[AHSD101]")
    p["suppress-schema"] = bs("'abc'  # ahsd: ignore[AHSD901] reason")
    p["suppress-in-string"] = bs("6\nx: '# ahsd: ignore[AHSD101] reason'")
    p["huge-file"] = B + b"\n" + b"".join(b"k%d: %d\n" % (i, i) for i in range(400000))
    p["long-line"] = sub('experiment_name: "AHSD_Phase2_PriorityNet"', 'experiment_name: "' + "x" * 2_000_000 + '"')
    p["long-key"] = sub("  batch_size: 128", "  " + "k" * 200000 + ": 1\n  batch_size: 128")
    # added after the first round: appended, so earlier probes keep their numbers
    p["c1-bidi-in-quoted-key"] = sub("  batch_size: 128", '  "k\\u009b2J\\u0085\\u202e": 1\n  batch_size: 128')
    return p
