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
within 1e-12 relative (a ``sum`` node is NumPy's pairwise sum where that is within 1e-13
of the exact sum, and else rounded once, as the engine's ``math.fsum``). An input that is
one constant for a whole group (the 2 of ``e ** 2``) is given to NumPy as that number, and
an op's refusal tests are computed only where an earlier test does not decide them.
It takes and gives NumPy arrays (``Result.gradients`` and ``.outputs`` are arrays; lists
work as inputs too); ``buffers`` and ``step()`` run a step on arrays in place, with no list
at all (the parameters and the inputs are the first nodes, two slices). NumPy is an
optional extra (``pip install ".[numpy]"``, the ``numpy`` extra of pyproject.toml); only
this module imports it.
"""

from __future__ import annotations

import math
from collections import defaultdict

from autograd_lite.checks import check_number
from autograd_lite.elementary import exact_sum
from autograd_lite.expressions import OpExpressions, expressions
from autograd_lite.program.backends import (
    BackendUnavailableError,
    Buffers,
    Replay,
    ReplayError,
    Result,
    refused,
)
from autograd_lite.program.layers import fold_kind, needs_gradient
from autograd_lite.program.render import render
from autograd_lite.program.trace import Program
from autograd_lite.symbolic import fold

try:
    import numpy as np
except ImportError:  # pragma: no cover - depends on the machine
    np = None

__all__ = ["NumpyReplay", "fold_kind", "needs_gradient"]


def _function(expr: object, inputs: tuple[str, ...]):
    """A vectorised function of (the inputs..., out) computing ``expr``; a float stays a
    float."""
    if isinstance(expr, float):
        return expr
    source = f"lambda {', '.join(inputs)}, out: {render(expr, 'numpy')}"
    return eval(compile(source, "<autograd_lite numpy expression>", "eval"), {"np": _NUMPY})


# Below this size every number of a step is ordinary: no product or sum of them comes near
# overflow, and adding in NumPy's order moves only last digits (numbers past it: the step is
# done again in the engine's order, NumpyReplay._in_the_engines_order).
ORDINARY = 2.0**500


# Where tanh saturates, tanh's slope 1 - out·out is a difference of nearly equal numbers:
# NumPy's tanh, a last place away from the engine's (math.tanh) for about a third of all x,
# would change that slope by up to 100% at |x| = 20 (1e-8 at 5). So past SATURATED the
# replay takes the engine's own tanh, number by number; below it the slope differs by at
# most ~1e-13 of itself (measured), and NumPy's vectorised tanh is kept.
SATURATED = 2.0


def _engine_tanh(x):  # noqa: ANN001, ANN202 - arrays
    out = np.tanh(x)
    far = np.abs(x) > SATURATED
    if far.any():
        out = np.array(out, dtype=np.float64)
        out[far] = [math.tanh(v) for v in np.asarray(x)[far].tolist()]
    return out


class _NumPy:
    """NumPy as the rendered expressions call it (``np.``), with the engine's tanh."""

    tanh = staticmethod(_engine_tanh)

    def __getattr__(self, name: str):  # noqa: ANN204 - whatever NumPy has
        return getattr(np, name)


_NUMPY = _NumPy()


_COMPILED: dict[str, tuple] = {}


def _functions(op: str) -> tuple:
    """(forward, derivatives, refuse) of ``op`` as vectorised functions, compiled once per
    reading of the op (``expressions(op)`` again after the op is registered anew)."""
    found = expressions(op)
    if op not in _COMPILED or _COMPILED[op][0] is not found:
        assert isinstance(found, OpExpressions)
        inputs = found.inputs
        refuse = None if found.refuse is False else _lazy(found.refuse, inputs)
        derivatives = tuple(_function(d, inputs) for d in found.derivatives)
        _COMPILED[op] = (found, (_function(found.forward, inputs), derivatives, refuse))
    return _COMPILED[op][1]


_UFUNCS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", ">": "greater",
           ">=": "greater_equal", "<": "less", "<=": "less_equal", "==": "equal",
           "!=": "not_equal", "pow": "power", "abs": "abs", "exp": "exp", "log": "log",
           "sqrt": "sqrt", "tanh": "tanh", "floor": "floor", "neg": "negative"}  # fmt: skip


def _lazy(expr: object, inputs: tuple[str, ...]):
    """A vectorised function of (the inputs..., out) for a condition (an op's refusal),
    built once as closures, that computes a branch of an ``if`` (and the second operand of
    an ``and``, an ``or``) only where the first does not decide already: a refusal's tests
    are rarely true, and ``**``'s take dozens of operations. The same operations as
    ``render(expr, "numpy")``, on fewer numbers."""

    names = (*inputs, "out")

    def leaf(part: object):
        if isinstance(part, str):
            at = names.index(part)
            return lambda env: env[at]
        return lambda env: part

    def node(part: tuple, parts: list):
        operator = part[0]
        if operator == "if":
            condition, then, otherwise = parts

            def choose(env):
                decided = condition(env)
                if np.all(decided):
                    return then(env)
                if not np.any(decided):
                    return otherwise(env)
                return np.where(decided, then(env), otherwise(env))

            return choose
        if operator in ("and", "or"):
            first, second = parts
            stop = operator == "or"  # or: all true decides; and: all false decides

            def logic(env):
                left = first(env)
                if np.all(left) if stop else not np.any(left):
                    return left
                right = second(env)
                return np.logical_or(left, right) if stop else np.logical_and(left, right)

            return logic
        if operator == "not":
            return lambda env: np.logical_not(parts[0](env))
        function = getattr(_NUMPY, _UFUNCS[operator])
        if len(parts) == 1:
            return lambda env: function(parts[0](env))
        first, second = parts
        return lambda env: function(first(env), second(env))

    evaluate = fold(expr, leaf, node)
    return lambda *values: evaluate(values)


class _At:
    """Where a group reads or writes in the value (or gradient) array, with ``shape``.

    Nodes are renumbered so that a group's nodes are consecutive (see ``_renumber``): then
    ``indices`` is a slice and reading it is a view, not a copy. Otherwise, fancy indexing;
    adding where indices repeat uses ``np.add.at``.
    """

    def __init__(self, indices) -> None:
        flat = indices.ravel()
        self.shape, self.indices = indices.shape, indices
        self.slice = self.rows = None
        if flat.size and flat[-1] - flat[0] == flat.size - 1 and (np.diff(flat) == 1).all():
            self.slice = slice(int(flat[0]), int(flat[0]) + flat.size)
        elif indices.ndim == 2 and indices.shape[0] > 1 and indices.size:
            # rows side by side with a gap between them (a layer's weights, its bias after
            # each row): a strided view, still no copy
            base, width = int(indices[0, 0]), indices.shape[1]
            stride = int(indices[1, 0]) - base
            if stride >= width and (indices == base + stride * np.arange(len(indices))[:, None]
                                    + np.arange(width)).all():  # fmt: skip
                self.rows = (slice(base, base + stride * len(indices)), stride, width)
        self.repeats = (
            self.slice is None and self.rows is None and len(np.unique(flat)) != flat.size
        )

    def _view(self, array):
        span, stride, width = self.rows
        return array[span].reshape(-1, stride)[:, :width]

    def get(self, array):
        if self.slice is not None:
            return array[self.slice].reshape(self.shape)
        if self.rows is not None:
            return self._view(array)
        return array[self.indices]

    def set(self, array, values) -> None:
        if self.slice is not None:
            array[self.slice] = np.reshape(values, -1)
        elif self.rows is not None:
            self._view(array)[...] = values
        else:
            array[self.indices] = values

    def add(self, array, values) -> None:
        if self.slice is not None:
            view = array[self.slice]
            view += np.reshape(values, -1)
        elif self.rows is not None:
            view = self._view(array)
            view += values
        elif self.repeats:
            np.add.at(array, self.indices, values)
        else:
            array[self.indices] += values


def _needed(indices, needs) -> _At | None:
    """An ``_At`` for adding gradients into ``indices``, or None if none of them needs one."""
    return _At(indices) if needs[indices].any() else None


class _Elementwise:
    """One op of fixed arity on m nodes: out[i] = f(x[i], y[i]).

    An input that is one constant for every node (the 2 of ``e ** 2``) is given as that
    number: NumPy computes with it at once, and the op's tests on it are decided once.
    """

    def __init__(self, op: str, nodes, args, needs, original, constants) -> None:
        self.op, self.nodes, self.original = op, _At(nodes), original
        self.forward, self.derivative_functions, self.refuse = _functions(op)
        self.args = [_At(args[:, k]) for k in range(args.shape[1])]
        self.fixed: list[float | None] = [None] * len(self.args)
        if len(self.args) > 1:
            for k in range(args.shape[1]):
                found = constants[args[:, k]]
                if not np.isnan(found).any() and (found == found[0]).all():
                    self.fixed[k] = float(found[0])
            if None not in self.fixed:  # all constant: keep arrays, the result is one
                self.fixed = [None] * len(self.args)
        self.derivatives = [None] * len(self.args)
        # chain-rule steps into inputs that need a gradient, per input position
        self.backward = [
            (k, _At(args[:, k])) for k in range(args.shape[1]) if needs[args[:, k]].any()
        ]

    def run_forward(self, values, program: Program) -> None:
        inputs = [at.get(values) if fixed is None else fixed
                  for at, fixed in zip(self.args, self.fixed)]  # fmt: skip
        out = self.forward(*inputs, None)
        if self.refuse is not None:
            bad = self.refuse(*inputs, out)
            if np.any(bad):
                k = int(np.argmax(bad))
                node = int(self.original[k])
                given = [float(np.broadcast_to(part, np.shape(out))[k]) for part in inputs]
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
        # NumPy's sum (pairwise: an error below (log2 n + 8) ulps of the sum of the |terms|)
        # where that is within 1e-13 of the sum; elsewhere -- cancellation, NaN, infinities --
        # rounded once, as the engine's math.fsum: a plain sum can lose every digit there
        rows = self.args.get(values)
        sums = rows.sum(axis=1)
        bound = (np.log2(rows.shape[1] + 1) + 8) * 2.3e-16 * np.abs(rows).sum(axis=1)
        exact = ~(bound <= 1e-13 * np.abs(sums))
        if exact.any():
            sums[exact] = [exact_sum(row) for row in rows[exact].tolist()]
        self.nodes.set(values, sums)

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
        if self.nodes.slice is not None:  # straight into the values: no temporary, no copy
            z = self.nodes.get(values)
            np.matmul(self.a_values, self.w_values.T, out=z)
            z += self.b.get(values)
        else:
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

    The parameters come first and the inputs next, each in the order traced (so that both
    are slices: the buffers of ``step()``); then the other leaves, in the order groups first
    read them; then each group's nodes, depth by depth; then leaves nobody reads.
    """
    fed = np.array([*program.parameters, *program.inputs], dtype=np.int64)
    reads = [part.ravel() for level in specs for spec in level for part in spec[3:]]
    read = np.concatenate(reads) if reads else np.zeros(0, dtype=np.int64)
    is_leaf = np.array([not op for op in program.ops], dtype=bool)
    is_leaf[fed] = False
    leaves_read = read[is_leaf[read]]
    _, first = np.unique(leaves_read, return_index=True)
    order = [fed, leaves_read[np.sort(first)]]
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
    constants = np.full(len(program), np.nan)  # the constant leaves' numbers (never fed)
    for i in program.constants:
        constants[i] = program.values[i]
    constants = constants[order]
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
                groups.append(_Elementwise(op, new_nodes, new_parts[0], needs, nodes, constants))
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
        self._grads = np.zeros_like(self._values)
        # the parameters, then the inputs, are the first nodes (_renumber): two slices
        p, i = len(program.parameters), len(program.inputs)
        self._parameters, self._inputs = slice(0, p), slice(p, p + i)
        # self.program: with decisions, its outputs hold the nodes they read (guards.py)
        self._outputs = new_index[np.array(self.program.outputs, dtype=np.int64)]
        self._loss = int(new_index[program.loss])
        self._exact: Replay | None = None  # the python replay, for steps near overflow
        gradients = self._grads[:p]
        gradients.flags.writeable = False
        self.buffers = Buffers(
            inputs=self._values[p : p + i],
            params=self._values[:p],
            gradients=gradients,
            outputs=np.zeros(len(program.outputs)),
        )

    def step(self) -> float:
        """One forward and backward pass with the numbers in ``buffers`` (NumPy arrays:
        write the inputs and parameters in place): returns the loss and leaves
        d(loss)/d(parameter) in ``buffers.gradients`` and the outputs' values in
        ``buffers.outputs``. No list is made. A number that is not finite is a
        ``ValueError`` naming it, as in ``run``."""
        p = self._parameters.stop
        fed = self._values[: self._inputs.stop]
        if not np.isfinite(fed).all():
            k = int(np.argmin(np.isfinite(fed)))
            role, index = ("params", k) if k < p else ("inputs", k - p)
            check_number("step", f"{role}[{index}]", float(fed[k]))
        if self._guards is not None:  # the decisions, checked as run() checks them
            inputs, params = self.buffers.inputs.tolist(), self.buffers.params.tolist()
            return float(self._guards.run(self, inputs, params).loss)
        loss = self._forward_backward()
        self.buffers.outputs[:] = self._values[self._outputs[: len(self.buffers.outputs)]]
        return loss

    def _forward_backward(self) -> float:
        values, grads = self._values, self._grads
        with np.errstate(all="ignore"):  # np.where computes both branches of an if
            for level in self._levels:
                for group in level:
                    group.run_forward(values, self.program)
            grads.fill(0.0)
            grads[self._loss] = 1.0
            for level in reversed(self._levels):
                for group in level:
                    group.run_backward(grads)
            # NumPy adds in its own order (and a matrix product may fuse a * b + c): with
            # every number far from overflow that moves only last digits, but where an inf,
            # a NaN or a number near the largest float appears, the order decides between
            # inf, NaN and a number. Such a step is done again in the engine's order.
            largest = max(np.abs(values).max(initial=0.0), np.abs(grads).max(initial=0.0))
        if not largest < ORDINARY:  # (NaN is not)
            return self._in_the_engines_order()
        return float(values[self._loss])

    def _in_the_engines_order(self) -> float:
        """This step by the python replay, which adds as the engine does; its loss,
        gradients and outputs written where ``run``, ``step`` and ``buffers`` read them."""
        if self._exact is None:
            from autograd_lite.program.python_backend import PythonReplay

            source = self._guards.source if self._guards is not None else self.program
            self._exact = PythonReplay(source)
        values, p = self._values, self._parameters.stop
        params, inputs = values[:p].tolist(), values[p : self._inputs.stop].tolist()
        result = self._exact._run(inputs, params)  # its outputs: those of self.program
        self._grads[:p] = result.gradients
        values[self._outputs] = result.outputs
        values[self._loss] = result.loss
        return float(result.loss)

    def _run(self, inputs, params) -> Result:
        values = self._values
        values[self._inputs] = inputs
        values[self._parameters] = params
        loss = self._forward_backward()
        # copies: the buffers are overwritten by the next run
        return Result(loss, self._grads[self._parameters].copy(), values[self._outputs])
