"""Neural networks built from Values: standard library only, so they can be read and ported.

* ``model``   -- ``Neuron``, ``Layer``, ``MLP`` (with ``save`` / ``load`` as JSON);
* ``losses``  -- mean squared error, the notes' E, cross-entropies, hinge, L2 penalty;
* ``optim``   -- ``SGD`` and ``Adam``;
* ``data``    -- xor, moons, circles, spiral and sine datasets, made in code;
* ``metrics`` -- accuracy;
* ``worked``  -- ``worked_example()``: the notes' worked example (Mazur's 2-2-2 network).

>>> from autograd_lite.nn import MLP
>>> model = MLP(2, [8, 1], seed=0)
>>> type(model([0.1, 0.2])).__name__
'Value'
"""

from autograd_lite.nn import data
from autograd_lite.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    half_sum_squared_error,
    hinge_loss,
    l2_penalty,
    mean_squared_error,
    softmax,
    softmax_cross_entropy,
    softplus,
)
from autograd_lite.nn.metrics import binary_accuracy, class_accuracy
from autograd_lite.nn.model import (
    ACTIVATIONS,
    DEFAULT_OUTPUT_ACTIVATION,
    MLP,
    Layer,
    Module,
    Neuron,
)
from autograd_lite.nn.optim import SGD, Adam, DivergenceError, Optimizer
from autograd_lite.nn.worked import WorkedExample, worked_example

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_OUTPUT_ACTIVATION",
    "MLP",
    "SGD",
    "Adam",
    "Layer",
    "Module",
    "Neuron",
    "Optimizer",
    "WorkedExample",
    "DivergenceError",
    "binary_accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "class_accuracy",
    "data",
    "half_sum_squared_error",
    "hinge_loss",
    "l2_penalty",
    "mean_squared_error",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "worked_example",
]
