"""review: reading runs back — report, plots, doctor, compare, evaluate and bench.

Imports engine/ and run/; never the CLI.
"""
