"""Layer 6, the CI gate (`ahsd-config ci`, `check-migrations`): `check` (the checks), `chain`
(replaying the revision chain), `git` (the only place git argv is built). Rendering of gate
results lives in `ahsd_config.render.gate`."""
