"""AHSD9xx: schema violations. Pydantic finds them; `ahsd_config.api.validate` maps its errors to these
codes. Registered here so `explain`, SARIF's rule table and the example tests know them."""

from ahsd_config.rules.registry import describe

UNKNOWN_KEY = describe(
    code="AHSD901",
    severity="error",
    title="unknown key",
    why="A key the schema does not know is usually a typo or a key in the wrong section; the "
    "user's pipeline would silently ignore it and train with the default instead.",
    fix="Use the suggested spelling, or move the key to the section it belongs under.",
    bad="priority_net:\n  batch_sise: 24\n",
    good="priority_net:\n  batch_size: 24\n",
    group="validity",
)

WRONG_TYPE = describe(
    code="AHSD902",
    severity="error",
    title="wrong type",
    why="Values are strictly typed: a quoted number is a string, `yes` is a string to YAML 1.2, "
    "and `10.0` where a count belongs is a float; the trainer would crash or silently coerce.",
    fix="Write the value with the type the key expects (unquoted numbers, true/false).",
    bad="priority_net:\n  batch_size: \"24\"\n",
    good="priority_net:\n  batch_size: 24\n",
    group="validity",
)

OUT_OF_RANGE = describe(
    code="AHSD903",
    severity="error",
    title="value out of range or not allowed",
    why="The value is outside what the key can mean (a negative learning rate, a dropout of 1, "
    "an optimizer ahsd-train does not implement, .nan or .inf).",
    fix="Use a value inside the bounds `ahsd-config explain KEY` shows.",
    bad="priority_net:\n  dropout: 1.5\n",
    good="priority_net:\n  dropout: 0.25\n",
    group="validity",
)

MISSING_KEY = describe(
    code="AHSD904",
    severity="error",
    title="required key missing",
    why="The key has no default: the run cannot start without it.",
    fix="Add the key; `ahsd-config explain KEY` shows its meaning and bounds.",
    bad="priority_net:\n  batch_size: <delete>\n",
    good="priority_net:\n  batch_size: 24\n",
    group="validity",
)
