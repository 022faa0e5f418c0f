"""The gate's checks, one module per check name of `ahsd_config.gate.result.CHECKS`: `history`
(AHSD607, AHSD609), `heads` (single-head, AHSD606), `rationale` (AHSD603), `validate` (rules,
AHSD608, AHSD611), `stamp` (AHSD602), `recorded` (AHSD601), `apply_revert` (AHSD604, AHSD605).
The `settings` check (AHSD610) lives with the settings it protects, in `gate/settings.py`.
Each is a function of the run's shared state (`gate.context.GateRun`) that adds findings."""
