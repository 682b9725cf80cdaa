"""The worked example the notes follow, as a model: Matt Mazur's "A Step by Step
Backpropagation Example" (https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/).

``worked_example()`` builds its 2-2-2 sigmoid network with its starting weights, and gives
its one sample, so every number of the walk-through can be read off the engine.

>>> example = worked_example()
>>> [round(a.data, 9) for a in example.model(example.inputs)]   # out_o1, out_o2
[0.75136507, 0.772928465]
"""

from __future__ import annotations

from typing import NamedTuple

from autograd_lite import names
from autograd_lite.checks import check_instance
from autograd_lite.nn.model import MLP

__all__ = [
    "INPUTS",
    "LEARNING_RATE",
    "MAZUR_NAMES",
    "PARAMETERS",
    "TARGETS",
    "URL",
    "WorkedExample",
    "worked_example",
]

URL = "https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/"
INPUTS = (0.05, 0.10)  # i1, i2
TARGETS = (0.01, 0.99)  # target_o1, target_o2
LEARNING_RATE = 0.5  # the walk-through's η, for its one step of gradient descent

# Mazur's parameter, the neuron it belongs to here (layer, neuron), the weight's input
# (None: the bias) and its starting value. His hidden neurons share one bias b1 and his
# output neurons b2; here each neuron has its own, starting at the shared value.
_PUBLISHED = (
    ("w1", (0, 0), 0, 0.15), ("w2", (0, 0), 1, 0.20), ("b1", (0, 0), None, 0.35),
    ("w3", (0, 1), 0, 0.25), ("w4", (0, 1), 1, 0.30), ("b1", (0, 1), None, 0.35),
    ("w5", (1, 0), 0, 0.40), ("w6", (1, 0), 1, 0.45), ("b2", (1, 0), None, 0.60),
    ("w7", (1, 1), 0, 0.50), ("w8", (1, 1), 1, 0.55), ("b2", (1, 1), None, 0.60),
)  # fmt: skip
_LABELS = [
    names.bias(neuron) if i is None else names.weight(neuron, i) for _, neuron, i, _ in _PUBLISHED
]
# our label -> its starting value, and -> Mazur's name for it
PARAMETERS: dict[str, float] = {label: row[3] for label, row in zip(_LABELS, _PUBLISHED)}
MAZUR_NAMES: dict[str, str] = {label: row[0] for label, row in zip(_LABELS, _PUBLISHED)}


class WorkedExample(NamedTuple):
    """The worked example's network, its one sample's inputs and its targets."""

    model: MLP
    inputs: list[float]
    targets: list[float]


def worked_example(*, op_by_op: bool = False) -> WorkedExample:
    """The network, inputs and targets of the worked example the notes follow, Matt Mazur's
    "A Step by Step Backpropagation Example":
    https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/

    2 inputs, 2 sigmoid hidden neurons, 2 sigmoid outputs, with its starting weights; its
    error is E = Σ ½ (target − out)² (``half_sum_squared_error``), its learning rate 0.5.
    A fresh model on every call.

    Its names and ours (a neuron's net input is our ``z``, its out our ``a``):

    ==================  ====================  ==========================
    Mazur               here                  starting value
    ==================  ====================  ==========================
    i1, i2              x0, x1                inputs 0.05, 0.10
    h1, h2              neurons L0.n0, L0.n1
    o1, o2              neurons L1.n0, L1.n1
    w1 (i1 -> h1)       L0.n0.w0              0.15
    w2 (i2 -> h1)       L0.n0.w1              0.20
    w3 (i1 -> h2)       L0.n1.w0              0.25
    w4 (i2 -> h2)       L0.n1.w1              0.30
    w5 (h1 -> o1)       L1.n0.w0              0.40
    w6 (h2 -> o1)       L1.n0.w1              0.45
    w7 (h1 -> o2)       L1.n1.w0              0.50
    w8 (h2 -> o2)       L1.n1.w1              0.55
    b1 (h1 and h2)      L0.n0.b, L0.n1.b      0.35
    b2 (o1 and o2)      L1.n0.b, L1.n1.b      0.60
    target_o1, _o2      t0, t1                targets 0.01, 0.99
    E_o1, E_o2, E_tot   E0, E1, E
    ==================  ====================  ==========================

    Mazur shares one bias between the neurons of a layer and keeps the biases fixed; here
    each neuron has its own (equal at the start) and an optimizer updates them too: to
    follow his step exactly, update only the weights. ``op_by_op=True`` builds each
    weighted sum from ``*`` and ``+`` nodes (same numbers, more nodes).

    >>> model, inputs, targets = worked_example()
    >>> print(model)
    MLP(
      (L0): Layer(2 -> 2, sigmoid)
      (L1): Layer(2 -> 2, sigmoid)
    )
    >>> [(MAZUR_NAMES[p.label], p.label, p.data) for p in model.layers[1].neurons[0].parameters()]
    [('w5', 'L1.n0.w0', 0.4), ('w6', 'L1.n0.w1', 0.45), ('b2', 'L1.n0.b', 0.6)]
    >>> inputs, targets
    ([0.05, 0.1], [0.01, 0.99])
    >>> worked_example(op_by_op=1)
    Traceback (most recent call last):
    ...
    TypeError: worked_example: op_by_op must be True or False, got int 1
    """
    check_instance("worked_example", "op_by_op", op_by_op, bool, "True or False")
    # sigmoid output set here on purpose: the default output activation is linear
    model = MLP(2, [2, 2], "sigmoid", output_activation="sigmoid", seed=0, op_by_op=op_by_op)
    for p in model.parameters():
        p.data = PARAMETERS[p.label]
    return WorkedExample(model, list(INPUTS), list(TARGETS))
