"""When training has diverged, and putting back the weights of the last sound step.

Training *diverges* when a step's loss is not a finite number, when the engine overflows,
when an update would make a weight infinite, or when the loss grows past
``DIVERGENCE_FACTOR`` times the first step's loss (or 1, if that was smaller). A
``SoundWeights`` keeps the weights of the latest step whose loss was sound; each of its
checks puts them back and returns or raises a ``DivergenceError`` naming the step.

>>> from autograd_lite import Value
>>> w = Value(1.0, label="w")
>>> sound = SoundWeights([w])
>>> sound.check_loss(0.5, step=0)      # a sound loss: its weights are kept
>>> w.data = 7.0                       # the update of step 0
>>> sound.check_loss(float("nan"), step=1)
Traceback (most recent call last):
...
autograd_lite.nn.optim.DivergenceError: training diverged at step 1: the loss became nan
>>> w.data                             # as it was when step 0's loss was measured
1.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd_lite.engine import Value
from autograd_lite.nn.optim import DivergenceError

__all__ = ["DIVERGENCE_FACTOR", "DivergenceError", "SoundWeights"]

# fit() calls training diverged when a step's loss is this many times the first step's (or
# 1, if the first was smaller): a learning rate that is too large makes the loss grow
# geometrically, and a healthy run never comes near (its worst bumps are tens of times).
DIVERGENCE_FACTOR = 1e4


class SoundWeights:
    """The parameters' values at the latest step whose loss was sound, and the first loss.

    ``check_loss`` is called with each step's loss, before that step's update: a sound loss
    keeps the current weights, a bad one puts the kept weights back and raises. The other
    two methods put them back and return the error for the caller to raise.
    """

    def __init__(self, parameters: Sequence[Value]) -> None:
        self.parameters = list(parameters)
        self.kept = [p.data for p in self.parameters]
        self.first_loss: float | None = None

    def check_loss(self, loss: float, step: int) -> None:
        """Keep the weights if ``loss`` is sound; else put back the kept ones and raise
        ``DivergenceError``: the loss is not finite, or has exploded."""
        if math.isfinite(loss):
            if self.first_loss is None:
                self.first_loss = loss
            if loss <= DIVERGENCE_FACTOR * max(self.first_loss, 1.0):
                self.kept = [p.data for p in self.parameters]
                return
            why = f"the loss grew from {self.first_loss:.4g} at step 0 to {loss:.4g}"
        else:
            why = f"the loss became {loss!r}"
        self._roll_back()
        raise DivergenceError(f"training diverged at step {step}: {why}", step=step, loss=loss)

    def forward_overflowed(self, step: int, error: OverflowError) -> DivergenceError:
        """The forward pass overflowed: the kept weights back, and the error to raise."""
        self._roll_back()
        return DivergenceError(
            f"training diverged at step {step}: the forward pass overflowed ({error})", step=step
        )

    def update_failed(self, step: int, loss: float, error: Exception) -> DivergenceError:
        """The backward pass or the update went wrong (an overflow, a gradient or a new
        weight that is not finite): the kept weights back, and the error to raise."""
        self._roll_back()
        return DivergenceError(
            f"training diverged at step {step} (loss {loss:.4g}): {error}", step=step, loss=loss
        )

    def _roll_back(self) -> None:
        for p, value in zip(self.parameters, self.kept):
            p.data = value
