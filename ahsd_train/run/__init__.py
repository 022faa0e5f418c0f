"""run: one training run — config to a prepared run, the loop, checkpoints, health checks,
distributed launch, progress bars and the run's log files.

Imports engine/ (and the package's errors); never review/ or the CLI.
"""
