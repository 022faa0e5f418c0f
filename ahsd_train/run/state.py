"""Where the loop is: `LoopState` (epoch, batch, step, best validation loss, early stopping) and the
running sums of the epoch under way. Checkpointed (as primitives, so `weights_only` loading reads it)
so a resume continues exactly where the run stopped, mid-epoch sums included."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping


@dataclass
class EpochSums:
    """Running sums over the finite steps of the epoch under way (this replica's)."""

    loss: float = 0.0
    grad: float = 0.0
    n: int = 0  # finite steps
    clipped: int = 0
    scen: int = 0  # scenarios over all replicas

    def add(self, loss: float, grad_norm: float, clipped: bool, scenarios: int) -> None:
        self.loss += loss
        self.grad += grad_norm
        self.n += 1
        self.clipped += int(clipped)
        self.scen += scenarios


@dataclass
class LoopState:
    epoch: int = 0  # epochs finished
    batch: int = 0  # batches of the current epoch done
    step: int = 0  # optimizer steps done
    best_val_loss: float = float("inf")
    bad_epochs: int = 0  # epochs since the validation loss last improved
    early_stopped: bool = False
    sums: EpochSums = field(default_factory=EpochSums)

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "LoopState":
        """A checkpoint's `progress` (sums empty before the first epoch started: zero sums)."""
        sums = state.get("sums") or {}
        return cls(epoch=int(state["epoch"]), batch=int(state["batch"]), step=int(state["step"]),
                   best_val_loss=float(state["best_val_loss"]), bad_epochs=int(state["bad_epochs"]),
                   early_stopped=bool(state["early_stopped"]),
                   sums=EpochSums(**{k: sums[k] for k in ("loss", "grad", "n", "clipped", "scen") if k in sums}))
