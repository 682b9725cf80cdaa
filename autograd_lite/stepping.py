"""Stepping through a network: the forward pass node by node, and the notes' 2-2-2 example.

* ``forward_steps(root)`` -- each computed node with its inputs, inputs before outputs (the
  backward pass is stepped by ``Value.backward_steps()``);
* ``classic_network()`` and ``backprop_example()`` -- the 2-2-2 sigmoid network of the
  classic worked example (inputs 0.05 and 0.10, targets 0.01 and 0.99), which a learner
  can compare number by number with the walk-through they read;
* ``labelled_error(outputs, targets)`` -- the error E = Σ ½ (t − a)², every node named
  (it is ``nn.losses.half_sum_squared_error``: every loss names its nodes).

>>> example = backprop_example()
>>> round(example.error.data, 9)                 # E before any learning
0.298371109
>>> example.error.backward()
>>> round(example.model.layers[1].neurons[0].w[0].grad, 9)   # ∂E/∂w5 of the walk-through
0.082167041
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from autograd_lite.engine import Value, topological_order
from autograd_lite.narrate import describe_forward
from autograd_lite.nn import MLP
from autograd_lite.nn.losses import half_sum_squared_error

__all__ = [
    "CLASSIC_INPUTS",
    "CLASSIC_PARAMETERS",
    "CLASSIC_TARGETS",
    "BackpropExample",
    "ForwardStep",
    "backprop_example",
    "classic_network",
    "forward_steps",
    "labelled_error",
]


@dataclass(frozen=True)
class ForwardStep:
    """One node of the forward pass: ``node`` was computed from ``inputs`` by ``node.op``.

    ``number`` counts computed nodes from 0; leaves (inputs, weights, constants) are what
    the forward pass starts from, so they have no step.
    """

    number: int
    node: Value
    inputs: tuple[Value, ...]

    def __str__(self) -> str:
        return describe_forward(self.node)


def forward_steps(root: Value) -> Iterator[ForwardStep]:
    """Every computed node ``root`` depends on, each after its inputs (``root`` last).

    The graph is already computed (operations run as they are written); this replays it in
    an order in which it could have been computed, one node at a time.

    >>> from autograd_lite import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * 3).tanh()
    >>> [(step.node.op, [v.label or v.data for v in step.inputs]) for step in forward_steps(y)]
    [('*', ['x', 3.0]), ('tanh', [6.0])]
    """
    if not isinstance(root, Value):
        raise TypeError(f"forward_steps(root): expected a Value, not {type(root).__name__}")
    number = 0
    for node in topological_order(root):
        if node.inputs:
            yield ForwardStep(number, node, node.inputs)
            number += 1


# --- the classic 2-2-2 example -------------------------------------------------------------

CLASSIC_INPUTS = (0.05, 0.10)
CLASSIC_TARGETS = (0.01, 0.99)
# The walk-through's w1..w8 and b1, b2, at the labels of autograd_lite.nn. Its hidden neurons
# share one bias b1 and its output neurons b2; here each neuron has its own, starting equal.
CLASSIC_PARAMETERS = {
    "L0.n0.w0": 0.15, "L0.n0.w1": 0.20, "L0.n0.b": 0.35,  # w1, w2, b1
    "L0.n1.w0": 0.25, "L0.n1.w1": 0.30, "L0.n1.b": 0.35,  # w3, w4, b1
    "L1.n0.w0": 0.40, "L1.n0.w1": 0.45, "L1.n0.b": 0.60,  # w5, w6, b2
    "L1.n1.w0": 0.50, "L1.n1.w1": 0.55, "L1.n1.b": 0.60,  # w7, w8, b2
}  # fmt: skip


def classic_network(activation: str = "sigmoid", op_by_op: bool = False) -> MLP:
    """The 2-2-2 network of the classic worked example, with its weights and biases.

    >>> model = classic_network()
    >>> [p.data for p in model.layers[1].neurons[0].parameters()]
    [0.4, 0.45, 0.6]
    """
    model = MLP(2, [2, 2], activation=activation, output_activation=activation, op_by_op=op_by_op)
    for p in model.parameters():
        p.data = CLASSIC_PARAMETERS[p.label]
    return model


# The notes' error E = Σ ½ (t − a)² with every node named (t_k, e_k, e_k^2, E_k, E): the
# loss names its own nodes; this is its name in the stepper's vocabulary.
labelled_error = half_sum_squared_error


@dataclass
class BackpropExample:
    """A network, one sample and its error, ready for ``error.backward()``."""

    model: MLP
    inputs: list[float]
    targets: list[float]
    outputs: list[Value]
    error: Value

    def forward(self) -> Value:
        """Run the forward pass again (after a weight update): new outputs, new error."""
        outputs = self.model(self.inputs)
        self.outputs = [outputs] if isinstance(outputs, Value) else outputs
        self.error = labelled_error(self.outputs, self.targets)
        return self.error


def backprop_example(
    model: MLP | None = None,
    inputs: Sequence[float] = CLASSIC_INPUTS,
    targets: Sequence[float] = CLASSIC_TARGETS,
) -> BackpropExample:
    """One forward pass of ``model`` (default: ``classic_network()``) and its labelled error.

    >>> example = backprop_example()
    >>> [round(a.data, 9) for a in example.outputs]     # out_o1, out_o2 of the walk-through
    [0.75136507, 0.772928465]
    """
    example = BackpropExample(
        model or classic_network(), list(inputs), list(targets), [], Value(0.0)
    )
    example.forward()
    return example
