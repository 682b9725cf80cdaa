"""The NumPy replay: nodes grouped by depth and op, each group one vectorised operation.

A node's depth is 0 for a leaf, else one more than its deepest input; nodes of the same
depth never depend on each other, so all nodes of one depth and one op run as one NumPy
operation (the op's expressions, read off the engine by ``autograd_lite.expressions``,
rendered to NumPy). An op over lists is run by what its expressions say it is: an exact
sum (``sum``), or a weighted sum, start + Σ wᵢ·aᵢ with slopes aᵢ, wᵢ and 1; the weighted
sums of a layer -- every neuron of the layer on every sample of the batch -- are found by
their shape (the same inputs per sample, the same weights per neuron) and run as one
matrix product, so wider layers stay fast. The backward pass walks the groups from the deepest
back, each again one operation (a product of matrices for a layer).

Weighted sums and gradients are added in NumPy's order, not the engine's, so results agree
within 1e-12 relative (``sum`` nodes are rounded once, as the engine's ``math.fsum``).
It takes and gives NumPy arrays (``Result.gradients`` and ``.outputs`` are arrays; lists
work as inputs too). NumPy is an optional extra (``pip install ".[numpy]"``, the ``numpy``
extra of pyproject.toml); only this module imports it.
"""

from __future__ import annotations

from collections import defaultdict

from autograd_lite.elementary import exact_sum
from autograd_lite.expressions import FoldExpressions, OpExpressions, expressions
from autograd_lite.program.backends import (
    BackendUnavailableError,
    Replay,
    ReplayError,
    Result,
    refused,
)
from autograd_lite.program.render import render
from autograd_lite.program.trace import Program

try:
    import numpy as np
except ImportError:  # pragma: no cover - depends on the machine
    np = None

__all__ = ["NumpyReplay", "fold_kind", "needs_gradient"]


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


def _function(expr: object, inputs: tuple[str, ...]):
    """A vectorised function of (the inputs..., out) computing ``expr``; a float stays a
    float."""
    if isinstance(expr, float):
        return expr
    source = f"lambda {', '.join(inputs)}, out: {render(expr, 'numpy')}"
    return eval(compile(source, "<autograd_lite numpy expression>", "eval"), {"np": np})


_COMPILED: dict[str, tuple] = {}


def _functions(op: str) -> tuple:
    """(forward, derivatives, refuse) of ``op`` as vectorised functions, compiled once per
    reading of the op (``expressions(op)`` again after the op is registered anew)."""
    found = expressions(op)
    if op not in _COMPILED or _COMPILED[op][0] is not found:
        assert isinstance(found, OpExpressions)
        inputs = found.inputs
        refuse = None if found.refuse is False else _function(found.refuse, inputs)
        derivatives = tuple(_function(d, inputs) for d in found.derivatives)
        _COMPILED[op] = (found, (_function(found.forward, inputs), derivatives, refuse))
    return _COMPILED[op][1]


def fold_kind(op: str) -> str:
    """How this backend runs an op over lists: "sum" (the exact sum of one list, each
    slope 1), "weighted_sum" (start + Σ w·a over two lists, slopes a, w and 1), or ""
    (another fold: this backend cannot run it)."""
    fold = expressions(op)
    assert isinstance(fold, FoldExpressions)
    groups = fold.groups
    if fold.exact and fold.many == (True,) and fold.term == groups[0]:
        return "sum" if fold.derivatives == (1.0,) else ""
    if fold.exact or fold.many != (True, True, False):
        return ""
    w, a, b = groups
    dot = fold.start == b and fold.term == ("*", w, a)
    return "weighted_sum" if dot and fold.derivatives == (a, w, 1.0) else ""


class _At:
    """Where a group reads or writes in the value (or gradient) array, with ``shape``.

    Nodes are renumbered so that a group's nodes are consecutive (see ``_renumber``): then
    ``indices`` is a slice and reading it is a view, not a copy. Otherwise, fancy indexing;
    adding where indices repeat uses ``np.add.at``.
    """

    def __init__(self, indices) -> None:
        flat = indices.ravel()
        self.shape, self.indices = indices.shape, indices
        self.slice = None
        if flat.size and flat[-1] - flat[0] == flat.size - 1 and (np.diff(flat) == 1).all():
            self.slice = slice(int(flat[0]), int(flat[0]) + flat.size)
        self.repeats = self.slice is None and len(np.unique(flat)) != flat.size

    def get(self, array):
        if self.slice is not None:
            return array[self.slice].reshape(self.shape)
        return array[self.indices]

    def set(self, array, values) -> None:
        if self.slice is not None:
            array[self.slice] = np.reshape(values, -1)
        else:
            array[self.indices] = values

    def add(self, array, values) -> None:
        if self.slice is not None:
            view = array[self.slice]
            view += np.reshape(values, -1)
        elif self.repeats:
            np.add.at(array, self.indices, values)
        else:
            array[self.indices] += values


def _needed(indices, needs) -> _At | None:
    """An ``_At`` for adding gradients into ``indices``, or None if none of them needs one."""
    return _At(indices) if needs[indices].any() else None


class _Elementwise:
    """One op of fixed arity on m nodes: out[i] = f(x[i], y[i])."""

    def __init__(self, op: str, nodes, args, needs, original) -> None:
        self.op, self.nodes, self.original = op, _At(nodes), original
        self.forward, self.derivative_functions, self.refuse = _functions(op)
        self.args = [_At(args[:, k]) for k in range(args.shape[1])]
        self.derivatives = [None] * len(self.args)
        # chain-rule steps into inputs that need a gradient, per input position
        self.backward = [
            (k, _At(args[:, k])) for k in range(args.shape[1]) if needs[args[:, k]].any()
        ]

    def run_forward(self, values, program: Program) -> None:
        inputs = [at.get(values) for at in self.args]
        out = self.forward(*inputs, None)
        if self.refuse is not None:
            bad = self.refuse(*inputs, out)
            if np.any(bad):
                k = int(np.argmax(bad))
                node = int(self.original[k])
                given = [float(part[k]) for part in inputs]
                raise refused(program, node, dict(zip(program.args[node], given)))
        self.nodes.set(values, out)
        for k, _ in self.backward:
            derivative = self.derivative_functions[k]
            self.derivatives[k] = (
                derivative if isinstance(derivative, float) else derivative(*inputs, out)
            )

    def run_backward(self, grads) -> None:
        upstream = self.nodes.get(grads)
        for k, at in self.backward:
            at.add(grads, self.derivatives[k] * upstream)


class _Sum:
    """``sum`` nodes with the same number of inputs."""

    def __init__(self, nodes, args, needs) -> None:
        self.nodes, self.args = _At(nodes), _At(args)
        self.scatter = _needed(args, needs)

    def run_forward(self, values, program: Program) -> None:
        # rounded once, as the engine's math.fsum: a plain sum can lose every digit
        self.nodes.set(values, [exact_sum(row) for row in self.args.get(values).tolist()])

    def run_backward(self, grads) -> None:
        if self.scatter is not None:
            upstream = self.nodes.get(grads)[:, None]
            self.scatter.add(grads, np.broadcast_to(upstream, self.args.shape))


class _WeightedSums:
    """Weighted sums with n weights each, computed row by row (no shared shape)."""

    def __init__(self, nodes, args, needs) -> None:
        h = (args.shape[1] - 1) // 2
        self.nodes = _At(nodes)
        w, a, b = args[:, :h], args[:, h : 2 * h], args[:, 2 * h]
        self.w, self.a, self.b = _At(w), _At(a), _At(b)
        self.w_grads, self.a_grads, self.b_grads = (_needed(part, needs) for part in (w, a, b))

    def run_forward(self, values, program: Program) -> None:
        self.w_values, self.a_values = self.w.get(values), self.a.get(values)
        sums = np.einsum("ij,ij->i", self.w_values, self.a_values)
        self.nodes.set(values, self.b.get(values) + sums)

    def run_backward(self, grads) -> None:
        upstream = self.nodes.get(grads)[:, None]
        if self.w_grads is not None:
            self.w_grads.add(grads, self.a_values * upstream)
        if self.a_grads is not None:
            self.a_grads.add(grads, self.w_values * upstream)
        if self.b_grads is not None:
            self.b_grads.add(grads, upstream[:, 0])


class _Layer:
    """The weighted sums of a layer on a batch: Z = A W^T + b, one matrix product.

    ``activations`` has a row per sample, ``weights`` a row per neuron, ``biases`` one per
    neuron; ``nodes[r, c]`` is neuron c on sample r.
    """

    def __init__(self, nodes, activations, weights, biases, needs) -> None:
        self.nodes, self.a, self.w, self.b = (
            _At(nodes), _At(activations), _At(weights), _At(biases),
        )  # fmt: skip
        self.w_grads, self.a_grads, self.b_grads = (
            _needed(part, needs) for part in (weights, activations, biases)
        )

    def run_forward(self, values, program: Program) -> None:
        self.a_values, self.w_values = self.a.get(values), self.w.get(values)
        self.nodes.set(values, self.a_values @ self.w_values.T + self.b.get(values))

    def run_backward(self, grads) -> None:
        upstream = self.nodes.get(grads)  # (samples, neurons)
        if self.w_grads is not None:
            self.w_grads.add(grads, upstream.T @ self.a_values)
        if self.a_grads is not None:
            self.a_grads.add(grads, upstream @ self.w_values)
        if self.b_grads is not None:
            self.b_grads.add(grads, upstream.sum(axis=0))


def _as_layer(nodes, args) -> tuple | None:
    """(nodes grid, activations, weights, biases) when the weighted sums form a full
    (sample x neuron) grid: the same activations per sample, the same weights per neuron."""
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
    return grid, samples, neurons[:, :h], neurons[:, h]


def _kind(op: str) -> str:
    """What ``fold_kind`` says of an op over lists ("sum", "weighted_sum"); "" for an op of
    fixed arity; a ``ReplayError`` for a fold this backend cannot run."""
    if isinstance(expressions(op), OpExpressions):
        return ""
    kind = fold_kind(op)
    if not kind:
        raise ReplayError(
            f"replay: the numpy backend runs ops over lists that are an exact sum or a "
            f"weighted sum (start + Σ w·a); {op!r} is neither: use the python or c backend"
        )
    return kind


def _specs(program: Program) -> list[list[tuple]]:
    """Per depth, each group as (kind, op, nodes, index arrays...) in the program's indices."""
    depth = [0] * len(program)
    by_key: dict[tuple, list[int]] = defaultdict(list)
    for i, (op, args) in enumerate(zip(program.ops, program.args)):
        if args:
            depth[i] = 1 + max(depth[j] for j in args)
            by_key[depth[i], op, len(args)].append(i)
    levels: dict[int, list] = defaultdict(list)
    kinds = {op: _kind(op) for op in set(program.ops) if op}
    for (level, op, arity), members in by_key.items():
        nodes = np.array(members, dtype=np.int64)
        args = np.array([program.args[i] for i in members], dtype=np.int64).reshape(-1, arity)
        layer = _as_layer(nodes, args) if kinds[op] == "weighted_sum" else None
        if layer is not None:
            grid, activations, weights, biases = layer
            levels[level].append(("layer", op, grid, weights, activations, biases))
        else:
            levels[level].append(("nodes", op, nodes, args))
    return [levels[level] for level in sorted(levels)]


def _renumber(program: Program, specs: list[list[tuple]]):
    """A new order of the nodes in which each group's nodes are consecutive, laid out as the
    group reads them (a layer's outputs sample by sample, its weights neuron by neuron), so
    that most reads and writes are slices. Returns the order (new index -> program index).

    Leaves come first, in the order groups first read them; then each group's nodes, depth
    by depth; then leaves nobody reads.
    """
    reads = [part.ravel() for level in specs for spec in level for part in spec[3:]]
    read = np.concatenate(reads) if reads else np.zeros(0, dtype=np.int64)
    is_leaf = np.array([not op for op in program.ops], dtype=bool)
    leaves_read = read[is_leaf[read]]
    _, first = np.unique(leaves_read, return_index=True)
    order = [leaves_read[np.sort(first)]]
    order += [spec[2].ravel() for level in specs for spec in level]
    placed = np.zeros(len(program), dtype=bool)
    for part in order:
        placed[part] = True
    order.append(np.flatnonzero(~placed))
    return np.concatenate(order)


def _groups(program: Program) -> tuple[list[list], object]:
    """The program's computed nodes as vectorised groups, one list per depth, in the new
    numbering; and that numbering (new index -> program index)."""
    specs = _specs(program)
    order = _renumber(program, specs)
    new_index = np.empty_like(order)
    new_index[order] = np.arange(len(order))
    needs = np.array(needs_gradient(program), dtype=bool)[order]
    levels = []
    for level in specs:
        groups = []
        for kind, op, nodes, *parts in level:
            new_nodes, new_parts = new_index[nodes], [new_index[part] for part in parts]
            if kind == "layer":
                weights, activations, biases = new_parts
                groups.append(_Layer(new_nodes, activations, weights, biases, needs))
            elif _kind(op) == "weighted_sum":
                groups.append(_WeightedSums(new_nodes, new_parts[0], needs))
            elif _kind(op) == "sum":
                groups.append(_Sum(new_nodes, new_parts[0], needs))
            else:
                groups.append(_Elementwise(op, new_nodes, new_parts[0], needs, nodes))
        levels.append(groups)
    return levels, order


class NumpyReplay(Replay):
    """Replay with NumPy, a group of nodes per operation (see the module docstring)."""

    name = "numpy"

    def __init__(self, program: Program) -> None:
        if np is None:
            raise BackendUnavailableError(
                'the numpy backend needs NumPy: pip install ".[numpy]" (or: pip install numpy)'
            )
        super().__init__(program)
        self._levels, order = _groups(program)
        new_index = np.empty_like(order)
        new_index[order] = np.arange(len(order))
        self._values = np.array(program.values, dtype=np.float64)[order]
        self._inputs = new_index[np.array(program.inputs, dtype=np.int64)]
        self._parameters = new_index[np.array(program.parameters, dtype=np.int64)]
        self._outputs = new_index[np.array(program.outputs, dtype=np.int64)]
        self._loss = int(new_index[program.loss])

    def _run(self, inputs, params) -> Result:
        values = self._values
        values[self._inputs] = inputs
        values[self._parameters] = params
        with np.errstate(all="ignore"):  # np.where computes both branches of an if
            for level in self._levels:
                for group in level:
                    group.run_forward(values, self.program)
            grads = np.zeros_like(values)
            grads[self._loss] = 1.0
            for level in reversed(self._levels):
                for group in level:
                    group.run_backward(grads)
        return Result(float(values[self._loss]), grads[self._parameters], values[self._outputs])
