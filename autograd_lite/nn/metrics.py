"""Accuracy: the fraction of samples whose predicted class is the target's class.

>>> from autograd_lite import Value
>>> binary_accuracy([Value(2.0), Value(-0.5)], [1, 1])      # sign of the score vs the label
0.5
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from itertools import repeat

from autograd_lite.engine import Value, data_of

__all__ = ["binary_accuracy", "class_accuracy"]


def binary_accuracy(
    outputs: Sequence[Value | float], targets: Sequence[float], threshold: float = 0.0
) -> float:
    """Two classes: an output above ``threshold`` predicts the positive class.

    A target above 0 is the positive class, so labels -1/+1 and 0/1 both work. Use
    threshold 0 for scores and logits, 0.5 for probabilities.

    >>> binary_accuracy([0.9, 0.2, 0.6], [1, 0, 0], threshold=0.5)
    0.6666666666666666
    """
    if len(outputs) != len(targets) or not outputs:
        raise ValueError(
            f"binary_accuracy: needs as many outputs as targets (at least one); "
            f"got {len(outputs)} and {len(targets)}"
        )
    # threshold < output, 0 < target, compared pairwise, all in C: fit() calls this every step
    # (a Value answers the reflected comparison with its data)
    predicted = map(operator.lt, repeat(threshold), outputs)
    correct = sum(map(operator.eq, predicted, map(operator.lt, repeat(0), targets)))
    return correct / len(targets)


def class_accuracy(outputs: Sequence[Sequence[Value | float]], targets: Sequence[int]) -> float:
    """Several classes: the predicted class is the position of the largest output.

    >>> class_accuracy([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]], [1, 2])
    0.5
    """
    if len(outputs) != len(targets) or not outputs:
        raise ValueError(
            f"class_accuracy: needs as many outputs as targets (at least one); "
            f"got {len(outputs)} and {len(targets)}"
        )
    correct = 0
    for scores, target in zip(outputs, targets):
        numbers = [data_of(s) for s in scores]
        correct += numbers.index(max(numbers)) == target
    return correct / len(targets)
