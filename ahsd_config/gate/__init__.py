"""Layer 6, the CI gate (`ahsd-config ci`, `check-migrations`).

`run` (the order the checks run in), `checks/` (one module per check: history, heads, rationale,
validate, stamp, recorded, apply_revert), `context` (one run's shared state), `result` (the
verdicts, findings and codes AHSD601-611), `settings` (`[tool.ahsd]` read from the BASE ref),
`chain` (the revision chain as read from git, replayed with the migrations engine), `git` (the
only place git argv is built; also `diff`'s `git show`). Rendering: `ahsd_config.render.gate`.
"""
