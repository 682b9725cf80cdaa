"""The NumPy replay: nodes grouped by depth and op, each group one vectorised operation.

A node's depth is 0 for a leaf, else one more than its deepest input; nodes of the same
depth never depend on each other, so all nodes of one depth and one op run as one NumPy
operation (the formulas of ``formulas.FORMULAS``, rendered to NumPy). The weighted sums of
a layer -- every neuron of the layer on every sample of the batch -- are found by their
shape (the same inputs per sample, the same weights per neuron) and run as one matrix
product, so wider layers stay fast. The backward pass walks the groups from the deepest
back, each again one operation (a product of matrices for a layer).

Weighted sums and gradients are added in NumPy's order, not the engine's, so results agree
within 1e-12 relative (``sum`` nodes are rounded once, as the engine's ``math.fsum``).
It takes and gives NumPy arrays (``Result.gradients`` and ``.outputs`` are arrays; lists
work as inputs too). NumPy is imported here only: ``pip install "autograd-lite[numpy]"``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from autograd_lite.program.backends import (
    BackendUnavailableError,
    Replay,
    Result,
    refused,
)
from autograd_lite.program.formulas import FORMULAS, render
from autograd_lite.program.trace import Program

try:
    import numpy as np
except ImportError:  # pragma: no cover - depends on the machine
    np = None

__all__ = ["NumpyReplay", "needs_gradient"]


def needs_gradient(program: Program) -> list[bool]:
    """True for the nodes whose gradient matters: parameters and what depends on one.

    A replay may skip every chain-rule step into the others (inputs, constants and what
    is computed from them alone): no parameter's gradient passes through them.
    """
    needs = [False] * len(program)
    for i in program.parameters:
        needs[i] = True
    for i, args in enumerate(program.args):
        if args and not needs[i]:
            needs[i] = any(map(needs.__getitem__, args))
    return needs


def _function(expr: object):
    """A vectorised function of (x, y, out) computing ``expr``; a float stays a float."""
    if isinstance(expr, float):
        return expr
    source = f"lambda x, y, out: {render(expr, 'numpy')}"
    return eval(compile(source, "<autograd_lite numpy formula>", "eval"), {"np": np})


_COMPILED: dict[str, tuple] = {}


def _formulas(op: str) -> tuple:
    """(forward, derivatives, refuse) of ``op`` as vectorised functions, compiled once."""
    if op not in _COMPILED:
        formula = FORMULAS[op]
        refuse = None if formula.refuse is False else _function(formula.refuse)
        derivatives = tuple(_function(d) for d in formula.derivatives)
        _COMPILED[op] = (_function(formula.forward), derivatives, refuse)
    return _COMPILED[op]


@dataclass
class _Scatter:
    """Adds contributions into gradients at ``targets``; ``np.add.at`` when targets repeat."""

    targets: object
    repeats: bool

    def add(self, grads, contributions) -> None:
        if self.repeats:
            np.add.at(grads, self.targets, contributions)
        else:
            grads[self.targets] += contributions


def _scatter(targets) -> _Scatter:
    flat = targets.ravel()
    return _Scatter(targets, len(np.unique(flat)) != flat.size)


class _Elementwise:
    """One op of fixed arity on m nodes: out[i] = f(x[i], y[i])."""

    def __init__(self, op: str, nodes, args, needs) -> None:
        self.op, self.nodes = op, nodes
        self.forward, self.derivative_functions, self.refuse = _formulas(op)
        self.args = [args[:, k] for k in range(args.shape[1])]
        self.derivatives = [None] * len(self.args)
        # chain-rule steps into inputs that need a gradient, per input position
        self.backward = [
            (k, _scatter(column)) for k, column in enumerate(self.args) if needs[column].any()
        ]

    def run_forward(self, values, program: Program) -> None:
        x = values[self.args[0]]
        y = values[self.args[1]] if len(self.args) > 1 else None
        out = self.forward(x, y, None)
        if self.refuse is not None:
            bad = self.refuse(x, y, out)
            if np.any(bad):
                raise refused(program, int(self.nodes[np.argmax(bad)]), values)
        values[self.nodes] = out
        for k, _ in self.backward:
            derivative = self.derivative_functions[k]
            self.derivatives[k] = (
                derivative if isinstance(derivative, float) else derivative(x, y, out)
            )

    def run_backward(self, grads) -> None:
        upstream = grads[self.nodes]
        for k, scatter in self.backward:
            scatter.add(grads, self.derivatives[k] * upstream)


class _Sum:
    """``sum`` nodes with the same number of inputs."""

    def __init__(self, nodes, args, needs) -> None:
        self.nodes, self.args = nodes, args
        self.scatter = _scatter(args) if needs[args].any() else None

    def run_forward(self, values, program: Program) -> None:
        # rounded once, as the engine's math.fsum: a plain sum can lose every digit
        values[self.nodes] = [math.fsum(row) for row in values[self.args].tolist()]

    def run_backward(self, grads) -> None:
        if self.scatter is not None:
            self.scatter.add(grads, np.broadcast_to(grads[self.nodes][:, None], self.args.shape))


class _WeightedSums:
    """``weighted_sum`` nodes with n weights each, computed row by row (no shared shape)."""

    def __init__(self, nodes, args, needs) -> None:
        h = (args.shape[1] - 1) // 2
        self.nodes = nodes
        self.w, self.a, self.b = args[:, :h], args[:, h : 2 * h], args[:, 2 * h]
        self.scatters = [
            (part, _scatter(part) if needs[part].any() else None) for part in (self.w, self.a)
        ]
        self.b_scatter = _scatter(self.b) if needs[self.b].any() else None

    def run_forward(self, values, program: Program) -> None:
        self.w_values, self.a_values = values[self.w], values[self.a]
        values[self.nodes] = values[self.b] + np.einsum("ij,ij->i", self.w_values, self.a_values)

    def run_backward(self, grads) -> None:
        upstream = grads[self.nodes][:, None]
        (_, w_scatter), (_, a_scatter) = self.scatters
        if w_scatter is not None:
            w_scatter.add(grads, self.a_values * upstream)
        if a_scatter is not None:
            a_scatter.add(grads, self.w_values * upstream)
        if self.b_scatter is not None:
            self.b_scatter.add(grads, upstream[:, 0])


class _Layer:
    """The weighted sums of a layer on a batch: Z = A W^T + b, one matrix product.

    ``rows`` are samples (each with its activation indices), ``columns`` neurons (each with
    its weight indices and its bias index); ``nodes[r, c]`` is neuron c on sample r.
    """

    def __init__(self, nodes, activations, weights, biases, needs) -> None:
        self.nodes, self.activations, self.weights, self.biases = (
            nodes, activations, weights, biases,
        )  # fmt: skip
        self.w_scatter = _scatter(weights) if needs[weights].any() else None
        self.a_scatter = _scatter(activations) if needs[activations].any() else None
        self.b_scatter = _scatter(biases) if needs[biases].any() else None

    def run_forward(self, values, program: Program) -> None:
        self.a_values, self.w_values = values[self.activations], values[self.weights]
        values[self.nodes] = self.a_values @ self.w_values.T + values[self.biases]

    def run_backward(self, grads) -> None:
        upstream = grads[self.nodes]  # (samples, neurons)
        if self.w_scatter is not None:
            self.w_scatter.add(grads, upstream.T @ self.a_values)
        if self.a_scatter is not None:
            self.a_scatter.add(grads, upstream @ self.w_values)
        if self.b_scatter is not None:
            self.b_scatter.add(grads, upstream.sum(axis=0))


def _as_layer(nodes, args, needs) -> _Layer | None:
    """The weighted sums as one layer when they form a full (sample x neuron) grid."""
    h = (args.shape[1] - 1) // 2
    neuron_keys = np.concatenate([args[:, :h], args[:, 2 * h :]], axis=1)
    sample_keys = args[:, h : 2 * h]
    neurons, neuron_of = np.unique(neuron_keys, axis=0, return_inverse=True)
    samples, sample_of = np.unique(sample_keys, axis=0, return_inverse=True)
    rows, columns = len(samples), len(neurons)
    if rows * columns != len(nodes):
        return None
    grid = np.full((rows, columns), -1, dtype=np.int64)
    grid[sample_of.ravel(), neuron_of.ravel()] = nodes
    if (grid < 0).any():  # a pair appears twice: not a grid
        return None
    return _Layer(grid, samples, neurons[:, :h], neurons[:, h], needs)


def _groups(program: Program) -> list[list]:
    """The program's computed nodes as vectorised groups, one list per depth."""
    depth = [0] * len(program)
    by_key: dict[tuple, list[int]] = defaultdict(list)
    for i, (op, args) in enumerate(zip(program.ops, program.args)):
        if args:
            depth[i] = 1 + max(depth[j] for j in args)
            by_key[depth[i], op, len(args)].append(i)
    needs = np.array(needs_gradient(program), dtype=bool)
    levels: dict[int, list] = defaultdict(list)
    for (level, op, arity), members in by_key.items():
        nodes = np.array(members, dtype=np.int64)
        args = np.array([program.args[i] for i in members], dtype=np.int64).reshape(-1, arity)
        if op == "weighted_sum":
            group = _as_layer(nodes, args, needs) or _WeightedSums(nodes, args, needs)
        elif op == "sum":
            group = _Sum(nodes, args, needs)
        else:
            group = _Elementwise(op, nodes, args, needs)
        levels[level].append(group)
    return [levels[level] for level in sorted(levels)]


class NumpyReplay(Replay):
    """Replay with NumPy, a group of nodes per operation (see the module docstring)."""

    name = "numpy"

    def __init__(self, program: Program) -> None:
        if np is None:
            raise BackendUnavailableError(
                'the numpy backend needs NumPy: pip install "autograd-lite[numpy]"'
            )
        super().__init__(program)
        self._levels = _groups(program)
        self._values = np.array(program.values, dtype=np.float64)
        self._inputs = np.array(program.inputs, dtype=np.int64)
        self._parameters = np.array(program.parameters, dtype=np.int64)
        self._outputs = np.array(program.outputs, dtype=np.int64)

    @staticmethod
    def _numbers(role: str, values: Sequence[float], count: int):
        try:
            numbers = np.asarray(values, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise TypeError(f"run({role}): expected {count} numbers, got {values!r:.80}") from None
        if numbers.size != count:
            raise ValueError(f"run({role}): the program has {count} {role}, got {numbers.size}")
        if not np.isfinite(numbers).all():
            raise ValueError(f"run({role}): every value must be finite")
        return numbers

    def _run(self, inputs, params) -> Result:
        values = self._values
        values[self._inputs] = inputs
        values[self._parameters] = params
        with np.errstate(all="ignore"):  # np.where computes both branches of a formula
            for level in self._levels:
                for group in level:
                    group.run_forward(values, self.program)
            grads = np.zeros_like(values)
            grads[self.program.loss] = 1.0
            for level in reversed(self._levels):
                for group in level:
                    group.run_backward(grads)
        return Result(
            float(values[self.program.loss]), grads[self._parameters], values[self._outputs]
        )
