"""Draw a computation graph so that the gradient flow shows at a glance.

Each Value is a box with its operation, label, ``data`` and ``grad``. Each edge goes from an
input to the node computed from it (the forward direction) and carries, backwards, the
gradient ``local_grad * node.grad`` -- exactly a ``BackwardStep``'s ``contribution``: its
thickness grows with the magnitude, its colour shows the sign (see ``style``).

**Ids, for pages built on the SVG.** Number the Values by their position in
``autograd_lite.topological_order(root)`` (inputs first, ``root`` last). Value number ``i``
is the node ``node{i}``, and the edge from Value ``i`` into Value ``n`` is ``edge{i}_{n}``
(an input used twice by one node, as in ``x * x``, is one edge carrying the sum). Both are
the DOT names and the SVG ``id`` attributes, so they do not depend on the drawing options;
``graph_ids(root)`` and ``edge_ids(root)`` return the mappings. Values that are not drawn
(hidden constants, collapsed weights, nodes past ``max_nodes``) are absent from the SVG. The
legend is ``legend`` and the note about left-out nodes is ``left_out``.

>>> from autograd_lite import Value
>>> x = Value(2.0, label="x")
>>> y = (x * 3).tanh(); y.label = "y"
>>> y.backward()
>>> dot = draw_graph(y)
>>> [ids for ids in graph_ids(y).values()]
['node0', 'node1', 'node2', 'node3']
>>> 'node3' in dot.source and 'edge2_3' in dot.source
True
"""

from __future__ import annotations

import html
from collections import deque
from collections.abc import Callable, Mapping

import graphviz

from autograd_lite import Value, topological_order
from autograd_lite.checks import (
    check_choice,
    check_count,
    check_format,
    check_instance,
    check_number,
)
from autograd_lite.names import is_constant, weighted_sum_parts
from autograd_lite.visualize import style
from autograd_lite.visualize.svg import row_id

RANKDIRS = ("LR", "TB", "RL", "BT")
AUTO_EDGE_LABELS = 30  # flows are written on the edges of graphs up to this many nodes
# a graph deeper than this many steps from the root is drawn as an overview: the steps
# nearest the root, one box for the middle, the deepest steps (a chain of 400 boxes in a row
# is an unreadable 40,000-pixel strip, and Graphviz refuses PNGs over 32,767 pixels)
OVERVIEW_DEPTH = 60
OVERVIEW_NEAR_ROOT = 30
OVERVIEW_DEEPEST = 12


def graph_ids(root: Value) -> dict[Value, str]:
    """The node id of every Value ``root`` depends on: ``node{i}``, ``i`` its position in
    ``topological_order(root)``.

    >>> from autograd_lite import Value
    >>> a = Value(1.0, label="a")
    >>> [(v.label or v.op, i) for v, i in graph_ids(a + a).items()]
    [('a', 'node0'), ('+', 'node1')]
    """
    check_instance("graph_ids", "root", root, Value, "a Value")
    return {value: f"node{i}" for i, value in enumerate(topological_order(root))}


def edge_ids(root: Value) -> dict[tuple[Value, Value], str]:
    """The id of every edge, keyed by ``(input, node)``: ``edge{i}_{n}``.

    For a ``BackwardStep`` the edge is ``edge_ids(root)[step.input, step.node]``.

    >>> from autograd_lite import Value
    >>> a = Value(1.0, label="a")
    >>> list(edge_ids(a * 2).values())
    ['edge0_2', 'edge1_2']
    """
    check_instance("edge_ids", "root", root, Value, "a Value")
    index = {value: i for i, value in enumerate(topological_order(root))}
    return {
        (input_, node): f"edge{index[input_]}_{n}"
        for node, n in index.items()
        for input_ in node.inputs
    }


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    hide_constants: bool = False,
    number_format: str = ".4g",
    collapse_neurons: bool = False,
    max_nodes: int = 400,
    explode_threshold: float = 10.0,
    dead_threshold: float = 1e-8,
    edge_labels: bool | None = None,
    legend: bool = True,
    grads: Mapping[Value, float] | None = None,
    row_ids: bool = False,
) -> graphviz.Digraph:
    """The computation graph of ``root`` as a ``graphviz.Digraph`` (displays in Jupyter).

    * ``rankdir`` -- "LR" (left to right), "TB" (top to bottom), "RL" or "BT";
    * ``hide_constants`` -- leave out constants and targets (``names.is_constant``: the
      numbers in ``x * 2``, a loss's t_k); the node shows them instead, as in ``*(·, 2)``;
    * ``number_format`` -- format spec of every number, e.g. ".4g";
    * ``collapse_neurons`` -- for networks: each neuron's weighted sum stays one node, its
      weight and bias leaves and all constants are left out (the node tells their gradient
      norm), so an ``MLP(2, [16, 16, 1])`` stays readable;
    * ``max_nodes`` -- draw at most this many nodes, the ones nearest ``root``; a note says
      how many were left out. A graph deeper than ``OVERVIEW_DEPTH`` steps is drawn as an
      overview: the steps nearest ``root`` and the deepest ones, with one box in between
      that counts the operations it stands for (id ``overview``);
    * ``explode_threshold`` -- ``|grad|`` above this (or inf, nan) marks a node exploding;
    * ``dead_threshold`` -- ``|grad|`` at most this times the largest in the picture (so 0
      too) marks a node dead; a negative value marks none;
    * ``edge_labels`` -- write each edge's gradient on it (default: for small graphs);
    * ``legend`` -- add the box that explains the encodings;
    * ``grads`` -- the gradient to draw for a node instead of its ``grad`` (a page draws a
      recorded state this way, without writing to the graph);
    * ``row_ids`` -- give the number rows of node ``node{i}`` the ids ``node{i}_data``,
      ``node{i}_grad`` and ``node{i}_params`` (``a_node{i}_grad`` in the SVG), for pages
      that rewrite the numbers (see ``autograd_lite.visualize.svg``).

    >>> from autograd_lite import Value
    >>> z = Value(-1.0, label="z").relu(); z.label = "a"
    >>> z.backward()
    >>> "dead" in draw_graph(z).source     # z < 0: relu passes no gradient back
    True
    """
    check_instance("draw_graph", "root", root, Value, "a Value")
    check_choice("draw_graph", "rankdir", rankdir, RANKDIRS)
    check_format("draw_graph", "number_format", number_format)
    check_count("draw_graph", "max_nodes", max_nodes)
    check_number("draw_graph", "explode_threshold", explode_threshold, above=0, finite=False)
    check_number("draw_graph", "dead_threshold", dead_threshold, finite=False)

    if grads is not None:
        check_instance("draw_graph", "grads", grads, Mapping, "a mapping from Value to gradient")
    check_instance("draw_graph", "row_ids", row_ids, bool, "True or False")
    grad_of = _grad_reader(grads)
    order = topological_order(root)
    index = {value: i for i, value in enumerate(order)}
    hidden = _hidden_nodes(order, hide_constants or collapse_neurons, collapse_neurons)
    hidden.discard(root)
    drawn = _nearest(root, hidden, max_nodes)
    shown, middle = _overview(root, drawn)

    flows = {  # (input, node) -> gradient it sends back, summed over the slots it fills
        (input_, node): flow
        for node in shown
        for input_, flow in _flows(node, grad_of(node)).items()
        if input_ in shown
    }
    top_flow = style.largest(flows.values())
    looks = style.Encoding(
        number_format,
        dead_threshold,
        explode_threshold,
        top_grad=style.largest(grad_of(v) for v in shown if not is_constant(v)),
        known=grad_of(root) != 0.0,  # before backward() every grad is 0: nothing to judge yet
    )
    if edge_labels is None:
        edge_labels = len(shown) <= AUTO_EDGE_LABELS

    dot = graphviz.Digraph("computation_graph")
    dot.attr(rankdir=rankdir, fontname=style.FONT, nodesep="0.25", ranksep="0.45")
    dot.attr("node", shape="box", fontname=style.FONT, fontsize="10", margin="0.08,0.04")
    dot.attr("edge", fontname=style.FONT, fontsize="9", arrowsize="0.6")
    for value in sorted(shown, key=index.__getitem__):
        name = f"node{index[value]}"
        row_prefix = name if row_ids else None
        label, attributes = _node(value, hidden, shown, looks, grad_of, row_prefix)
        dot.node(name, label, id=name, tooltip=_node_tooltip(value, grad_of(value)), **attributes)
    for (input_, node), flow in sorted(flows.items(), key=lambda item: _edge_key(item, index)):
        source, target = index[input_], index[node]
        if looks.known:
            attributes = style.edge_attributes(flow, top_flow)
            if edge_labels:
                attributes.update(label=looks.fmt(flow), fontcolor=attributes["color"])
        else:
            attributes = {"color": "#555555"}
        tooltip = _edge_tooltip(input_, node, flow, looks)
        name = f"edge{source}_{target}"
        dot.edge(f"node{source}", f"node{target}", id=name, tooltip=tooltip, **attributes)

    if middle:
        _add_middle_box(dot, middle, shown, index)
    left_out = len(order) - len(hidden) - len(drawn)
    if left_out:
        note = (
            f"{left_out} more nodes not drawn (max_nodes={max_nodes}):\n"
            f"the ones farthest from {_name(root)}. Boxes marked '…' lost inputs."
        )
        if not collapse_neurons and any(v.op == "weighted_sum" for v in drawn):
            note += "\ncollapse_neurons=True draws one box per neuron."
        dot.node("left_out", note, id="left_out", shape="note", style="filled", fillcolor="#FFF8DC")
    if legend:
        _add_legend(dot, looks, top_flow)
    return dot


def _hidden_nodes(order: list[Value], constants: bool, parameters: bool) -> set[Value]:
    """Constants, and (``parameters``) leaves used only as weights or bias of weighted sums."""
    hidden = {v for v in order if is_constant(v)} if constants else set()
    if parameters:
        in_a_sum, used_elsewhere = set(), set()
        for node in order:
            if node.op == "weighted_sum":
                parts = weighted_sum_parts(node.inputs)
                in_a_sum.update(parts.weights, [parts.bias])
                used_elsewhere.update(parts.activations)
            else:
                used_elsewhere.update(node.inputs)
        hidden |= {v for v in in_a_sum - used_elsewhere if not v.inputs}
    return hidden


def folded_parameters(root: Value) -> dict[Value, list[Value]]:
    """The weights and biases ``collapse_neurons=True`` draws inside each node's box (the
    leaves used only as a weighted sum's weights or bias), by node.

    >>> from autograd_lite import Value, weighted_sum
    >>> w, x, b = Value(0.5, "w"), Value(2.0, "x"), Value(0.1, "b")
    >>> z = weighted_sum([w], [x], b)
    >>> [[p.label for p in params] for params in folded_parameters(z).values()]
    [['w', 'b']]
    """
    check_instance("folded_parameters", "root", root, Value, "a Value")
    order = topological_order(root)
    hidden = _hidden_nodes(order, True, True)
    return {node: folded for node in order if (folded := _folded(node, hidden))}


def _folded(node: Value, hidden: set[Value]) -> list[Value]:
    return [v for v in dict.fromkeys(node.inputs) if v in hidden and not is_constant(v)]


def _nearest(root: Value, hidden: set[Value], max_nodes: int) -> set[Value]:
    """The ``max_nodes`` drawable nodes nearest ``root`` (breadth first, inputs in order)."""
    drawn = {root}
    queue = deque([root])
    while queue and len(drawn) < max_nodes:
        for input_ in queue.popleft().inputs:
            if input_ not in drawn and input_ not in hidden:
                drawn.add(input_)
                queue.append(input_)
                if len(drawn) == max_nodes:
                    break
    return drawn


def _overview(root: Value, drawn: set[Value]) -> tuple[set[Value], set[Value]]:
    """Split ``drawn`` into the nodes to draw and the middle one box stands for: nothing in
    the middle unless some node is more than ``OVERVIEW_DEPTH`` steps from ``root``.

    >>> from autograd_lite import Value
    >>> x = Value(0.5, label="x")
    >>> y = x
    >>> for _ in range(100):
    ...     y = y.tanh()
    >>> order = topological_order(y)
    >>> shown, middle = _overview(y, set(order))
    >>> len(shown), len(middle)       # y, the 30 steps nearest it, then the 12 deepest
    (43, 58)
    """
    depth = {root: 0}  # steps from the root, breadth first (no recursion)
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for input_ in node.inputs:
            if input_ in drawn and input_ not in depth:
                depth[input_] = depth[node] + 1
                queue.append(input_)
    deepest = max(depth.values())
    if deepest <= OVERVIEW_DEPTH:
        return drawn, set()
    middle = {v for v, d in depth.items() if OVERVIEW_NEAR_ROOT < d <= deepest - OVERVIEW_DEEPEST}
    return drawn - middle, middle


def _add_middle_box(
    dot: graphviz.Digraph, middle: set[Value], shown: set[Value], index: dict[Value, int]
) -> None:
    """One box for the middle of an overview, wired to the shown nodes it touches."""
    counts: dict[str, int] = {}
    for value in middle:
        kind = value.op or ("leaf " + value.label if value.label else "constant")
        counts[kind] = counts.get(kind, 0) + 1
    common = sorted(counts.items(), key=lambda item: -item[1])
    ops = ", ".join(f"{kind} ×{count}" for kind, count in common[:4])
    if len(common) > 4:
        ops += ", …"
    label = (
        f"⋯ {len(middle)} more nodes here ⋯\n{ops}\n(an overview: the graph is too deep to draw)"
    )
    dot.node("overview", label, id="overview", shape="box", style="dashed,rounded", color="#888888")
    feeds = {node for node in shown for input_ in node.inputs if input_ in middle}
    fed_by = {input_ for node in middle for input_ in node.inputs if input_ in shown}
    for value in sorted(fed_by, key=index.__getitem__):
        dot.edge(f"node{index[value]}", "overview", color="#888888", style="dashed")
    for value in sorted(feeds, key=index.__getitem__):
        dot.edge("overview", f"node{index[value]}", color="#888888", style="dashed")


def _grad_reader(grads: Mapping[Value, float] | None) -> Callable[[Value], float]:
    if grads is None:
        return lambda value: value.grad
    return lambda value: grads.get(value, value.grad)


def _flows(node: Value, grad: float) -> dict[Value, float]:
    """Gradient each input receives from ``node``: local_grad * grad, summed per input."""
    flows: dict[Value, float] = {}
    for input_, local_grad in zip(node.inputs, node.local_grads):
        flows[input_] = flows.get(input_, 0.0) + local_grad * grad
    return flows


def _edge_key(item: tuple[tuple[Value, Value], float], index: dict[Value, int]) -> tuple:
    (input_, node), _ = item
    return index[node], index[input_]


def _name(value: Value) -> str:
    return value.label or value.op or "constant"


def _header(value: Value, hidden: set[Value], looks: style.Encoding) -> str:
    """'a = tanh': the label and the operation, hidden constants written in: '*(·, 2)'."""
    if not value.inputs:
        return style.row(value.label or "constant", bold=True)
    operation = value.op
    if any(input_ in hidden and is_constant(input_) for input_ in value.inputs):
        arguments = (
            looks.fmt(v.data) if v in hidden and is_constant(v) else "·" for v in value.inputs
        )
        operation = f"{value.op}({', '.join(arguments)})"
    text = f"<B>{html.escape(operation)}</B>"
    if value.label:
        text = f"<B>{html.escape(value.label)}</B> = {text}"
    return f"<TR><TD>{text}</TD></TR>"


def _node(
    value: Value,
    hidden: set[Value],
    drawn: set[Value],
    looks: style.Encoding,
    grad_of: Callable[[Value], float],
    row_prefix: str | None,
) -> tuple[str, dict[str, str]]:
    """A Value's label (operation, label, data, grad, marks) and its graphviz attributes.

    With ``row_prefix`` (the node's id) each number row gets an id of its own."""

    def ids(field: str) -> str | None:
        return row_id(row_prefix, field) if row_prefix else None

    grad = grad_of(value)
    # a constant's gradient teaches nothing: no fill, no marks
    state = "unknown" if is_constant(value) else looks.state(grad)
    rows = [
        _header(value, hidden, looks),
        style.row(f"data {looks.fmt(value.data)}", id=ids("data")),
        style.row(f"grad {looks.fmt(grad)}", id=ids("grad")),
    ]
    parameters = _folded(value, hidden)
    if parameters:  # collapsed weights and bias: say how much gradient they got
        norm = looks.fmt(style.norm(grad_of(p) for p in parameters))
        rows.append(style.row(f"{len(parameters)} params, grad norm {norm}", id=ids("params")))
    lost = sum(1 for v in set(value.inputs) if v not in hidden and v not in drawn)
    if lost:
        rows.append(style.row(f"… {lost} input{'s' * (lost > 1)} not drawn"))
    rows.append(looks.mark_row(grad, state))
    return style.table(rows), looks.node_attributes(grad, state)


def _node_tooltip(value: Value, grad: float) -> str:
    what = f"{value.op} node" if value.op else "leaf"
    return f"{_name(value)} ({what}): data {value.data!r}, grad {grad!r}"


def _edge_tooltip(input_: Value, node: Value, flow: float, looks: style.Encoding) -> str:
    return (
        f"{_name(input_)} → {_name(node)}: gradient sent back = "
        f"∂{_name(node)}/∂{_name(input_)} × grad of {_name(node)} = {looks.fmt(flow)}"
    )


def _add_legend(dot: graphviz.Digraph, looks: style.Encoding, top_flow: float) -> None:
    thinnest = top_flow * 10.0**-style.DECADES
    label = looks.legend(
        edge_lines=(
            "edge sends back a gradient > 0: raising the input raises E",
            "edge sends back a gradient < 0: raising the input lowers E",
            "edge sends back exactly 0",
        ),
        thickness_lines=(
            f"thickest: |local grad × grad| = {looks.fmt(top_flow)}",
            f"thinnest: ≤ {looks.fmt(thinnest)} (log scale)",
        ),
        fill_line="fill: |grad| ≈",
    )
    style.add_legend(dot, label)
