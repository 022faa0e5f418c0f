"""engine: what is trained and how it is scored — PriorityNet, its composite loss, the synthetic
data and observation model, normalization, metrics, shards and the benchmark maths; ``physics/``,
the optional LALSuite generator.

The lowest room of ahsd_train: imports nothing from run/, review/ or the CLI.
"""
