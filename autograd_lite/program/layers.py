"""A traced program's layers, found by their shape, and an order to run them that keeps the
engine's sums: the execution plan of the C replay.

A program has one node per neuron and per sample: the weighted sum z = b + w1*a1 + w2*a2 +
... of neuron j on sample s (any op that its expressions read as ``start + Σ w·a`` with
slopes a, w and 1, as ``weighted_sum``). Together, a layer's weighted sums are a grid: a
**row** per sample (the row's neurons read the same activations), a **column** per neuron
(every row reads its weights and bias). A grid runs as loops over contiguous numbers, the
layer view of the notes (``autograd_lite.layers``):

    forward    z[s][j] = b[j] + W[j][0]*a[s][0] + W[j][1]*a[s][1] + ...   (left to right)
    backward   ∂E/∂W[j][i] += a[s][i] * δ[s][j]      (δ aᵀ)
               ∂E/∂a[s][i] += W[j][i] * δ[s][j]      (Wᵀ δ)
               ∂E/∂b[j]    += δ[s][j]

A **layer's activation** (relu, tanh, ... : any op of one input) is run with it when it is
the only reader of every z of the grid and the same op for all of them.

The engine's results depend on the order in which each gradient is added up, so a layer
runs as a unit only where that order survives:

* within the grid, every weight's gradient is added over the rows in one order (``row_order``)
  and every activation's over the neurons in one order (``neuron_order``): the engine's, read
  off the program's node order (its backward pass visits the nodes from the last back);
* every gradient the layer adds to is added to by the layer in one stretch of the engine's
  order: no other node adds to it between two of the layer's nodes (an L2 penalty adds to
  the weights' gradients before all the samples, which is fine).

A grid that breaks either rule (or would depend on itself) is not a layer: its nodes run one
by one, as any other node. ``plan`` then orders the layers and the remaining nodes: the
backward pass runs each node or layer once every gradient it reads is complete, and the
gradients it adds to get their contributions in the engine's order; the forward pass runs
that order backwards. The program itself is unchanged (it still says, node by node, what
it computes): a plan is only an order of running it.

>>> from autograd_lite import Value
>>> from autograd_lite.nn import MLP
>>> from autograd_lite.nn.losses import mean_squared_error
>>> from autograd_lite.program import trace
>>> model = MLP(2, [3, 1], activation="relu", seed=0)
>>> samples = [[Value(1.0), Value(2.0)], [Value(-1.0), Value(0.5)]]
>>> loss = mean_squared_error([model(x) for x in samples], [1.0, 0.0])
>>> found = plan(trace(loss, params=model.parameters(), inputs=[v for x in samples for v in x]))
>>> [(layer.name, layer.shape, layer.activation) for layer in found.layers]
[('L0', (2, 3, 2), 'relu'), ('L1', (2, 1, 3), '')]

Only the standard library is imported here.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from autograd_lite.expressions import FoldExpressions, OpExpressions, expressions
from autograd_lite.names import Role, layer_name, parse
from autograd_lite.program.trace import Program

__all__ = ["Layer", "Plan", "find_layers", "fold_kind", "needs_gradient", "plan"]

Grid = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Layer:
    """The weighted sums of one layer as a grid of program nodes.

    ``z[r][c]`` is neuron c on row r (a sample); ``weights[c][i]``, ``biases[c]``: neuron
    c's; ``activations[r][i]``: what row r reads. ``activation`` is the op of the activation
    nodes run with the layer (``""``: none), ``outputs[r][c]`` those nodes (``z`` itself
    without one). ``row_order`` and ``neuron_order`` are the rows and the neurons in the
    order the engine's backward pass visits them. ``name`` is ``L{l}`` when the z nodes
    carry a model's names (``names.py``), else ``""``.
    """

    z: Grid
    weights: Grid
    biases: tuple[int, ...]
    activations: Grid
    activation: str
    outputs: Grid
    row_order: tuple[int, ...]
    neuron_order: tuple[int, ...]
    name: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        """(rows, neurons, inputs per neuron)."""
        return len(self.z), len(self.biases), len(self.activations[0])

    @property
    def members(self) -> list[int]:
        """The layer's own nodes: its weighted sums and the activations run with them."""
        nodes = [i for row in self.z for i in row]
        return nodes + [i for row in self.outputs for i in row] * bool(self.activation)

    @property
    def edges(self) -> int:
        """Chain-rule steps of the layer's nodes (those of the activations included)."""
        rows, neurons, inputs = self.shape
        return rows * neurons * (2 * inputs + 1 + bool(self.activation))


@dataclass(frozen=True)
class Plan:
    """How to run a program: ``layers``, and ``schedule``, the forward order: a node index
    (a computed node run on its own) or ``-1 - k`` for ``layers[k]``. The backward pass runs
    it backwards. Leaves are not in it."""

    layers: tuple[Layer, ...]
    schedule: tuple[int, ...]

    def __repr__(self) -> str:
        shown = ", ".join(f"{layer.name or 'layer'} {'x'.join(map(str, layer.shape))}"
                          f"{' ' + layer.activation if layer.activation else ''}"
                          for layer in self.layers)  # fmt: skip
        alone = sum(1 for entry in self.schedule if entry >= 0)
        return f"Plan({len(self.layers)} layers [{shown}], {alone} nodes on their own)"


def fold_kind(op: str) -> str:
    """How a replay runs an op over lists: "sum" (the exact sum of one list, each slope 1),
    "weighted_sum" (start + Σ w·a over two lists, slopes a, w and 1), or "" (another fold).

    >>> fold_kind("weighted_sum"), fold_kind("sum")
    ('weighted_sum', 'sum')
    """
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


def find_layers(program: Program) -> list[Layer]:
    """Every grid of weighted sums of ``program`` that can run as a layer (see the module
    docstring), before ``plan`` checks where each may run."""
    grids = _grids(program)
    if not grids:
        return []
    readers = _readers(program, grids)
    return [layer for grid in grids if (layer := _layer(program, grid, readers)) is not None]


def plan(program: Program) -> Plan:
    """The layers of ``program`` and the order to run them with its other nodes (see the
    module docstring). Without layers: every computed node, in the program's order."""
    layers = find_layers(program)
    while layers:
        found = _schedule(program, layers)
        if isinstance(found, tuple):
            return Plan(tuple(layers), found)
        del layers[found]  # it cannot run as one unit here: its nodes run one by one
    return Plan((), tuple(i for i, args in enumerate(program.args) if args))


# --- finding the grids ----------------------------------------------------------------------


@cache
def _weighted_sum_spans(op: str, count: int) -> tuple[tuple[int, int], ...] | None:
    """Where a node of ``op`` with ``count`` inputs keeps its weights, activations and bias,
    or None if ``op`` is not a weighted sum."""
    found = expressions(op)
    if not isinstance(found, FoldExpressions) or fold_kind(op) != "weighted_sum":
        return None
    return tuple(found.layout(count))


@dataclass
class _Grid:
    z: list[list[int]]  # rows of nodes, columns in the first row's order
    weights: list[tuple[int, ...]]
    biases: list[int]
    activations: list[tuple[int, ...]]


def _grids(program: Program) -> list[_Grid]:
    """The weighted sums grouped into full grids: rows that read the same set of neurons."""
    neuron_of: dict[tuple, int] = {}  # (weights, bias) -> neuron number
    neurons: list[tuple] = []
    rows: dict[tuple[int, ...], list[tuple[int, int]]] = {}  # activations -> [(node, neuron)]
    ops, args = program.ops, program.args
    for i, op in enumerate(ops):
        if not op or len(args[i]) < 3:
            continue
        spans = _weighted_sum_spans(op, len(args[i]))
        if spans is None:
            continue
        (w, n), (a, _), (b, _) = spans
        inputs = args[i]
        key = (inputs[w : w + n], inputs[b])
        neuron = neuron_of.setdefault(key, len(neurons))
        if neuron == len(neurons):
            neurons.append(key)
        rows.setdefault(inputs[a : a + n], []).append((i, neuron))
    groups: dict[frozenset[int], list[tuple[tuple[int, ...], list[tuple[int, int]]]]] = {}
    for activations, members in rows.items():
        groups.setdefault(frozenset(n for _, n in members), []).append((activations, members))
    claimed: dict[int, int] = {}  # neuron -> how many groups read it
    for key in groups:
        for neuron in key:
            claimed[neuron] = claimed.get(neuron, 0) + 1
    grids = []
    for key, group in groups.items():
        if any(claimed[neuron] > 1 for neuron in key):
            continue  # a neuron in two groups of rows: not one grid
        group.sort(key=lambda row: min(i for i, _ in row[1]))  # rows in program order
        columns = [n for _, n in sorted(group[0][1])]  # neurons in the first row's order
        position = {n: c for c, n in enumerate(columns)}
        z = []
        for _, members in group:
            if len(members) != len(columns):  # a neuron twice in one row
                break
            row = [0] * len(columns)
            for i, n in members:
                row[position[n]] = i
            z.append(row)
        else:
            grids.append(
                _Grid(
                    z=z,
                    weights=[neurons[n][0] for n in columns],
                    biases=[neurons[n][1] for n in columns],
                    activations=[activations for activations, _ in group],
                )
            )
    return grids


def _readers(program: Program, grids: list[_Grid]) -> dict[int, list[int]]:
    """For each weighted sum of a grid: the nodes that read it (the grids' own weighted
    sums count as readers of their weights, activations and biases)."""
    inside = {i for grid in grids for row in grid.z for i in row}
    readers: dict[int, list[int]] = {i: [] for i in inside}
    for i, args in enumerate(program.args):
        if args and i not in inside:
            for j in args:
                if j in readers:
                    readers[j].append(i)
    for grid in grids:
        for r, row in enumerate(grid.z):
            for j in grid.activations[r]:
                if j in readers:
                    readers[j].extend(row)
        for c, column in enumerate(zip(*grid.z)):
            for j in (*grid.weights[c], grid.biases[c]):
                if j in readers:
                    readers[j].extend(column)
    return readers


def _layer(program: Program, grid: _Grid, readers: dict[int, list[int]]) -> Layer | None:
    """The grid as a ``Layer``, or None when it breaks a rule of the module docstring."""
    z = grid.z
    members = {i for row in z for i in row}
    reads_a = [j for row in grid.activations for j in row]
    reads_w = [j for column in grid.weights for j in column] + grid.biases
    # each number read once: one gradient per weight, per activation (else the loops would
    # add twice into one place, where the engine adds in another order)
    if len(set(reads_a)) != len(reads_a) or len(set(reads_w)) != len(reads_w):
        return None
    if set(reads_a) & set(reads_w) or members & (set(reads_a) | set(reads_w)):
        return None
    row_order = _order([[row[c] for row in z] for c in range(len(z[0]))])
    neuron_order = _order(z)
    if row_order is None or neuron_order is None:
        return None
    # the activation run with the layer: the only reader of each z, one op for all of them
    activation, outputs = "", z
    first = readers[z[0][0]]
    if len(first) == 1:
        op = program.ops[first[0]]
        found = expressions(op)
        if isinstance(found, OpExpressions) and len(found.inputs) <= 2:
            parameters = set(program.parameters)
            fused = [[_only_reader(program, readers, parameters, i, op) for i in row] for row in z]
            if all(i is not None for row in fused for i in row):
                activation, outputs = op, fused  # type: ignore[assignment]
    if activation and {i for row in outputs for i in row} & (set(reads_a) | set(reads_w)):
        return None  # it reads its own activations (a recurrent net): it would wait for itself
    return Layer(
        z=tuple(map(tuple, z)),
        weights=tuple(grid.weights),
        biases=tuple(grid.biases),
        activations=tuple(grid.activations),
        activation=activation,
        outputs=tuple(map(tuple, outputs)),
        row_order=row_order,
        neuron_order=neuron_order,
        name=_name(program, z),
    )


def _only_reader(
    program: Program, readers: dict[int, list[int]], parameters: set[int], node: int, op: str
) -> int | None:
    """The node of ``op`` that alone reads ``node``, as its first input; a second input must
    be a number no gradient goes to (a constant or a fed input: leaky_relu's slope)."""
    found = readers[node]
    if len(found) != 1 or program.ops[found[0]] != op:
        return None
    args = program.args[found[0]]
    if args[0] != node or node in args[1:]:
        return None
    if any(program.ops[j] or j in parameters for j in args[1:]):
        return None
    return found[0]


def _order(lines: Sequence[Sequence[int]]) -> tuple[int, ...] | None:
    """The positions 0..n-1 of each line (a list of nodes) from its last node in the program
    back to its first: the order in which the engine's backward pass visits them; None
    unless it is the same for every line."""
    first = lines[0]
    order = tuple(sorted(range(len(first)), key=first.__getitem__, reverse=True))
    for line in lines[1:]:
        if any(line[a] < line[b] for a, b in zip(order, order[1:])):
            return None
    return order


def _name(program: Program, z: list[list[int]]) -> str:
    """'L{l}' when every z of the grid is named ``L{l}.n{j}.z`` with one l (every row as
    the first: a neuron's z has one name for every sample)."""
    labels = program.labels
    first = [labels[i] for i in z[0]]
    if any([labels[i] for i in row] != first for row in z[1:]):
        return ""
    found = set()
    for label in first:
        name = parse(label) if label else None
        if name is None or name.role is not Role.WEIGHTED_INPUT:
            return ""
        found.add(name.layer)
    return layer_name(found.pop()) if len(found) == 1 else ""


# --- the order of running -----------------------------------------------------------------


def _schedule(program: Program, layers: list[Layer]) -> tuple[int, ...] | int:
    """The forward schedule of the program with these layers, or the index of a layer that
    cannot run as one unit (the gradients it adds to would get their sums in another order
    than the engine's, or it would wait for itself)."""
    unit_of: dict[int, int] = {}  # node -> its layer's unit, -1 - k
    top: dict[int, int] = {}  # unit -> its last node in the program: when the engine starts it
    for k, layer in enumerate(layers):
        for i in layer.members:
            unit_of[i] = -1 - k
        top[-1 - k] = max(layer.members)
    alone = [i for i, args in enumerate(program.args) if args and i not in unit_of]
    # every gradient's contributions: (last node, first node, unit) of each reader
    added: dict[int, list[tuple[int, int, int]]] = {}
    for i in alone:
        for j in set(program.args[i]):
            added.setdefault(j, []).append((i, i, i))
    for k, layer in enumerate(layers):
        unit = -1 - k
        for row, reads in zip(layer.z, layer.activations):
            span = (max(row), min(row), unit)
            for j in reads:
                added.setdefault(j, []).append(span)
        for column, weights, bias in zip(zip(*layer.z), layer.weights, layer.biases):
            span = (max(column), min(column), unit)
            for j in (*weights, bias):
                added.setdefault(j, []).append(span)
    # the backward order must keep each gradient's contributions in the engine's order, and
    # run a node after everything that adds to its gradient
    after: dict[int, set[int]] = {}
    for j, spans in added.items():
        spans.sort(reverse=True)
        for earlier, later in zip(spans, spans[1:]):
            if later[0] >= earlier[1]:  # interleaved: a layer's stretch is not one piece
                return _layer_index(earlier[2] if earlier[2] < 0 else later[2])
            after.setdefault(earlier[2], set()).add(later[2])
        if program.args[j]:
            last, unit = spans[-1][2], unit_of.get(j, j)
            if last != unit:
                after.setdefault(last, set()).add(unit)
    waiting = {unit: 0 for unit in (*alone, *top)}
    for successors in after.values():
        for unit in successors:
            waiting[unit] += 1
    ready = [(-top.get(unit, unit), unit) for unit, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    backward = []
    while ready:  # the unit the engine would start first, among those that may start
        _, unit = heapq.heappop(ready)
        backward.append(unit)
        for successor in after.get(unit, ()):
            waiting[successor] -= 1
            if waiting[successor] == 0:
                heapq.heappush(ready, (-top.get(successor, successor), successor))
    if len(backward) < len(waiting):  # a cycle through a layer: that layer waits for itself
        stuck = next(unit for unit in top if unit not in set(backward))
        return _layer_index(stuck)
    return tuple(reversed(backward))


def _layer_index(unit: int) -> int:
    return -1 - unit
