"""Operations with many inputs, each one node: ``sum_values`` and a neuron's ``weighted_sum``.

A chain of ``+`` and ``*`` nodes gives the same numbers; one node per sum keeps the graph
small and the backward pass short. Each op is followed by its derivative rule, as in
``engine.py``; ``many=`` tells which parameters take a list of inputs, and the rule takes
each list as one argument too.

>>> from autograd_lite import Value
>>> z = weighted_sum([Value(0.5), Value(-1.0)], [2.0, 3.0], Value(0.25))
>>> z.data, z.op, len(z.inputs)
(-1.75, 'weighted_sum', 5)
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

from autograd_lite.elementary import fsum
from autograd_lite.engine import Value, derivative, operand, operation, record
from autograd_lite.names import weighted_sum_inputs

__all__ = ["sum_values", "weighted_sum", "weighted_sums"]


@operation("sum", many=("values",))
def sum_values(values: Iterable[Value | float]) -> Value:
    """The sum of many values as one node (cheaper than a chain of ``+``).

    >>> s = sum_values([Value(1.0), Value(2.0), 3.0])
    >>> s.data, s.op, s.local_grads
    (6.0, 'sum', (1.0, 1.0, 1.0))
    """
    inputs = tuple(operand(v, "sum") for v in values)
    if not inputs:
        raise ValueError("sum_values: needs at least one value; got none")
    data = [v._data for v in inputs]
    out = fsum(data)  # the exact sum, rounded once (elementary.exact_sum)
    return record(out, "sum", inputs, sum_rule(data, out))


@derivative("sum")
def sum_rule(values: Sequence[float], out: float) -> tuple:
    """d(x1 + ... + xn)/dxi = 1"""
    return (1.0,) * len(values)


@operation("weighted_sum", many=("weights", "activations"))
def weighted_sum(
    weights: Sequence[Value | float], activations: Sequence[Value | float], bias: Value | float
) -> Value:
    """A neuron's weighted input z = w1*a1 + ... + wn*an + b, as one node.

    Inputs are ordered (w1..wn, a1..an, b); the local gradients are the activations (for the
    weights), the weights (for the activations) and 1 (for the bias).

    >>> w = [Value(0.5), Value(-1.0)]
    >>> z = weighted_sum(w, [2.0, 3.0], Value(0.25))
    >>> z.data, z.local_grads
    (-1.75, (2.0, 3.0, 0.5, -1.0, 1.0))
    """
    return weighted_sums([weights], activations, [bias])[0]


def weighted_sums(
    weight_rows: Sequence[Sequence[Value | float]],
    activations: Sequence[Value | float],
    biases: Sequence[Value | float],
) -> list[Value]:
    """The weighted inputs of a row of neurons that see the same activations (a layer).

    One ``weighted_sum`` node per row of weights; the activations are read once for all.

    >>> [z.data for z in weighted_sums([[Value(1.0)], [Value(2.0)]], [3.0], [0.5, 0.0])]
    [3.5, 6.0]
    """
    if len(weight_rows) != len(biases):
        raise ValueError(
            f"weighted_sum: needs one bias per row of weights; "
            f"got {len(weight_rows)} rows and {len(biases)} biases"
        )
    activations, a = _values_and_data(activations)  # read once for every row
    nodes = []
    append, mul = nodes.append, operator.mul  # looked up once for the layer
    for weights, bias in zip(weight_rows, biases):
        try:  # as in _values_and_data, without building the row for the common case
            w, b = [v._data for v in weights], bias._data
        except AttributeError:
            row, data = _values_and_data((*weights, bias))
            weights, bias, w, b = row[:-1], row[-1], data[:-1], data[-1]
        inputs = weighted_sum_inputs(weights, activations, bias)  # checks the lengths too
        out = sum(map(mul, w, a), b)
        append(record(out, "weighted_sum", inputs, weighted_sum_rule(w, a, b, out)))
    return nodes


def _values_and_data(values: Sequence[Value | float]) -> tuple[tuple[Value, ...], list[float]]:
    """``values`` as a tuple of Values, and their data. Reading ``._data`` is the check: a
    number has none (it becomes a constant leaf; ``operand`` refuses anything else), which is
    cheaper per row than testing every type."""
    values = tuple(values)
    try:
        return values, [v._data for v in values]
    except AttributeError:
        values = tuple([operand(v, "weighted_sum") for v in values])
        return values, [v._data for v in values]


@derivative("weighted_sum")
def weighted_sum_rule(
    weights: Sequence[float], activations: Sequence[float], bias: float, out: float
) -> tuple:
    """dz/dwi = ai, dz/dai = wi, dz/db = 1"""
    return (*activations, *weights, 1.0)  # in the order of the inputs: w1..wn, a1..an, b
