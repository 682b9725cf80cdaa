"""Stepping through a network: the forward pass node by node, and the notes' 2-2-2 example.

* ``forward_steps(root)`` -- each computed node with its inputs, inputs before outputs (the
  backward pass is stepped by ``Value.backward_steps()``);
* ``backprop_example()`` -- one forward pass of the worked example the notes follow, Matt
  Mazur's "A Step by Step Backpropagation Example" (``autograd_lite.nn.worked_example()``:
  the 2-2-2 sigmoid network, inputs 0.05 and 0.10, targets 0.01 and 0.99), which a learner
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
from autograd_lite.nn import MLP, worked_example
from autograd_lite.nn import worked as _worked
from autograd_lite.nn.losses import half_sum_squared_error

__all__ = [
    "CLASSIC_INPUTS",
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


# --- the worked example ------------------------------------------------------------------

# Its sample (the numbers live in autograd_lite.nn.worked, with the network), under the
# names autograd_lite.export imports.
CLASSIC_INPUTS = _worked.INPUTS
CLASSIC_TARGETS = _worked.TARGETS


def classic_network(op_by_op: bool = False) -> MLP:
    """The worked example's network: ``worked_example(op_by_op=op_by_op).model`` (kept for
    ``autograd_lite.export``; new code calls ``autograd_lite.nn.worked_example``).

    >>> [p.data for p in classic_network().layers[1].neurons[0].parameters()]
    [0.4, 0.45, 0.6]
    """
    return worked_example(op_by_op=op_by_op).model


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
    inputs: Sequence[float] = _worked.INPUTS,
    targets: Sequence[float] = _worked.TARGETS,
) -> BackpropExample:
    """One forward pass of ``model`` and its labelled error; by default the worked example's
    network (``autograd_lite.nn.worked_example()``), inputs and targets.

    >>> example = backprop_example()
    >>> [round(a.data, 9) for a in example.outputs]     # out_o1, out_o2 of the walk-through
    [0.75136507, 0.772928465]
    """
    model = model or worked_example().model
    example = BackpropExample(model, list(inputs), list(targets), [], Value(0.0))
    example.forward()
    return example
