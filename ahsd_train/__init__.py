"""ahsd_train: batched PriorityNet, its composite loss, synthetic overlapping-signal data and the trainer."""

__version__ = "0.1.0"
