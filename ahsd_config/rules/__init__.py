"""Domain rules: advice about legal-but-probably-wrong configs, one unit per permanent code.

See `registry.py` for how to add a rule. Group modules (hygiene, optimisation, architecture, data,
migrations, usage, validity) are imported on first use of `all_rules()` / `get_rule()`.
"""

from ahsd_config.rules.registry import (
    Rule,
    RuleContext,
    Violation,
    all_rules,
    describe,
    get_rule,
    register,
    rule,
    run_rules,
)

__all__ = [
    "Rule", "RuleContext", "Violation", "all_rules", "describe", "get_rule", "register", "rule",
    "run_rules",
]
