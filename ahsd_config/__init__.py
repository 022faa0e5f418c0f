"""ahsd_config: schema, domain rules and versioned migrations for the PriorityNet training YAML.

Never imports torch: `ahsd-config` must start fast enough to run on every editor save.
"""

__version__ = "0.1.0"
