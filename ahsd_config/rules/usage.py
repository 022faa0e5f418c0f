"""AHSD5xx: information — keys and sections `ahsd-train` does not read.

The user tuned knobs for months; a knob the trainer never reads changes nothing, and saying so
saves the next afternoon of tuning it. The list comes from the schema's `x-ahsd-unused` marks.
"""

from __future__ import annotations

from typing import Iterator

from ahsd_config.rules.registry import RuleContext, Violation, rule


def _unused() -> dict[str, str]:
    from ahsd_config.schema import unused_by_trainer

    return unused_by_trainer()


@rule(
    code="AHSD501",
    severity="info",
    title="key not read by ahsd-train",
    why="The key is valid (the user's own pipeline reads it) but `ahsd-train` does not, so "
    "changing it changes nothing in a run of this project.",
    fix="Leave it for the user's pipeline, or delete it if that pipeline is gone.",
    bad="priority_net:\n  gradient_log_threshold: 0.5\n",
    good="priority_net:\n  gradient_clip_norm: 5.0\n",
)
def check_unused_key(ctx: RuleContext) -> Iterator[Violation]:
    for dotted, reason in _unused().items():
        path = tuple(dotted.split("."))
        if len(path) > 1 and ctx.doc.has_key(path):
            yield Violation(path, f"{dotted} is not used by ahsd-train; tuning it changes nothing "
                            f"({reason})")


@rule(
    code="AHSD502",
    severity="info",
    title="section of another subsystem",
    why="The section configures another part of the user's decomposition pipeline (posterior "
    "estimator, subtractor, RL controller, bias corrector, staging); `ahsd-train` trains "
    "PriorityNet only and reads none of it. It is still validated, so typos are caught.",
    fix="Nothing to do; tune it for the pipeline that reads it.",
    bad="stage: \"1A\"\n",
    good="priority_net:\n  batch_size: 24\n",
)
def check_other_subsystem_section(ctx: RuleContext) -> Iterator[Violation]:
    for dotted, reason in _unused().items():
        if "." not in dotted and ctx.doc.has_key((dotted,)):
            message = (reason if reason.startswith(dotted)
                       else f"{dotted} is not read by ahsd-train ({reason})")
            yield Violation((dotted,), message)
