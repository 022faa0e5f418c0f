"""review: reading runs back — doctor, compare, evaluate and bench (report.json and the plots are
written by the run itself: run/report.py, run/plots.py).

Imports engine/ and run/; never the CLI.
"""
