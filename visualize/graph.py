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
from autograd_lite.names import is_constant_or_target, weighted_sum_parts
from autograd_lite.narrate import formula
from autograd_lite.notation import names_in_order, partial, superscript
from autograd_lite.visualize import style
from autograd_lite.visualize.svg import row_id
from autograd_lite.walk import positions

RANKDIRS = ("LR", "TB", "RL", "BT")
AUTO_EDGE_LABELS = 30  # flows are written on the edges of graphs up to this many nodes
# a graph deeper than this many steps from the root is drawn as an overview: the steps
# nearest the root, one box for the middle, the deepest steps (a chain of 400 boxes in a row
# is an unreadable 40,000-pixel strip, and Graphviz refuses PNGs over 32,767 pixels)
OVERVIEW_DEPTH = 60
OVERVIEW_NEAR_ROOT = 30
OVERVIEW_DEEPEST = 12
# a graph of more nodes than this that contains neurons (weighted sums) is drawn collapsed by
# default, one box per neuron: the rule of draw_graph and export_html alike
AUTO_COLLAPSE = 60


def collapses_by_default(order: list[Value]) -> bool:
    """True when ``collapse_neurons=None`` means collapsed for the graph whose
    ``topological_order`` is ``order``: more than ``AUTO_COLLAPSE`` nodes, some of them
    neurons' weighted sums (an ``MLP(2, [16, 16, 1])`` on one sample has 405 nodes).

    >>> from autograd_lite.nn import MLP
    >>> collapses_by_default(topological_order(MLP(2, [16, 16, 1], seed=0)([0.5, -1.0])))
    True
    >>> collapses_by_default(topological_order(MLP(2, [2, 1], seed=0)([0.5, -1.0])))
    False
    """
    return len(order) > AUTO_COLLAPSE and any(node.op == "weighted_sum" for node in order)


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
    index = positions(topological_order(root))
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
    collapse_neurons: bool | None = None,
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
    * ``hide_constants`` -- leave out constants and targets (``names.is_constant_or_target``: the
      numbers in ``x * 2``, a loss's t_k); the node writes them into its formula instead,
      the left-out input a dot: ``· × 2``, ``0.01 − ·``, ``·²``;
    * ``number_format`` -- format spec of every number, e.g. ".4g";
    * ``collapse_neurons`` -- for networks: each neuron's weighted sum stays one node, its
      weight and bias leaves and all constants are left out (the node tells their gradient
      norm), so an ``MLP(2, [16, 16, 1])`` stays readable; by default (None) when the graph
      has more than ``AUTO_COLLAPSE`` nodes and contains neurons (``collapses_by_default``);
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
    if collapse_neurons is not None:
        check_instance(
            "draw_graph", "collapse_neurons", collapse_neurons, bool, "True, False or None"
        )
    grad_of = _grad_reader(grads)
    order = topological_order(root)
    if collapse_neurons is None:
        collapse_neurons = collapses_by_default(order)
    index = positions(order)
    names = names_in_order(order)  # what the narrations call each node (unlabelled: *₃)
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
        top_grad=style.largest(grad_of(v) for v in shown if not is_constant_or_target(v)),
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
        label, attributes = _node(value, names, hidden, shown, looks, grad_of, row_prefix)
        tooltip = _node_tooltip(value, names, grad_of(value))
        dot.node(name, label, id=name, tooltip=tooltip, **attributes)
    for (input_, node), flow in sorted(flows.items(), key=lambda item: _edge_key(item, index)):
        source, target = index[input_], index[node]
        if looks.known:
            attributes = style.edge_attributes(flow, top_flow)
            if edge_labels:
                attributes.update(label=looks.fmt(flow), fontcolor=attributes["color"])
        else:
            attributes = {"color": "#555555"}
        tooltip = _edge_tooltip(names[input_], names[node], flow, looks)
        name = f"edge{source}_{target}"
        dot.edge(f"node{source}", f"node{target}", id=name, tooltip=tooltip, **attributes)

    if middle:
        _add_middle_box(dot, middle, shown, index)
    left_out = len(order) - len(hidden) - len(drawn)
    if left_out:
        note = (
            f"{left_out} more nodes not drawn (max_nodes={max_nodes}):\n"
            f"the ones farthest from {names[root]}. Boxes marked '…' lost inputs."
        )
        if not collapse_neurons and any(v.op == "weighted_sum" for v in drawn):
            note += "\ncollapse_neurons=True draws one box per neuron."
        dot.node("left_out", note, id="left_out", shape="note", style="filled", fillcolor="#FFF8DC")
    if legend:
        _add_legend(dot, looks, top_flow)
    return dot


def _hidden_nodes(order: list[Value], constants: bool, parameters: bool) -> set[Value]:
    """Constants, and (``parameters``) leaves used only as weights or bias of weighted sums."""
    hidden = {v for v in order if is_constant_or_target(v)} if constants else set()
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
    return [v for v in dict.fromkeys(node.inputs) if v in hidden and not is_constant_or_target(v)]


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


def _header(value: Value, name: str, hidden: set[Value], looks: style.Encoding) -> str:
    """'a = tanh': the node's name (its label; unlabelled, what the narrations call it: its
    op numbered, '*₃', or E for the root) and its operation, hidden constants written into
    its formula: 'e0 = 0.01 − ·'."""
    if not value.inputs:
        return style.row(value.label or "constant", bold=True)
    text = f"<B>{html.escape(name)}</B>"
    if any(input_ in hidden and is_constant_or_target(input_) for input_ in value.inputs):
        text += f" = {html.escape(folded_formula(value, hidden, looks.fmt))}"
    elif value.label or not name.startswith(value.op):  # not '*₃': say which operation
        text += f" = <B>{html.escape(value.op)}</B>"
    return f"<TR><TD>{text}</TD></TR>"


def folded_formula(node: Value, hidden: set[Value], fmt: Callable[[float], str]) -> str:
    """The operation of ``node`` as a formula in which the hidden constants are written as
    numbers and every other input is a dot: how a box reads with ``hide_constants=True``.

    >>> from autograd_lite import Value
    >>> a = Value(0.75, label="a")
    >>> two, target, half, minus = Value(2.0), Value(0.01), Value(0.5), Value(-3.0)
    >>> [folded_formula(n, {two, target, half, minus}, "{:g}".format)
    ...  for n in (target - a, a**two, a * half, a / minus)]
    ['0.01 − ·', '·²', '0.5 × ·', '· / (-3)']
    """
    hidden_constants = [v in hidden and is_constant_or_target(v) for v in node.inputs]
    operands = [
        _operand(v.data, fmt) if constant else "·"
        for v, constant in zip(node.inputs, hidden_constants)
    ]
    exponent = node.inputs[-1].data
    if node.op == "**" and hidden_constants[-1] and exponent.is_integer() and exponent >= 0:
        return f"{operands[0]}{superscript(int(exponent))}"  # ·², as the notes write a square
    if node.op == "*" and hidden_constants == [False, True]:
        operands.reverse()  # a factor first, as the notes write ½ e²: 0.5 × ·
    return formula(node.op, operands)


def _operand(x: float, fmt: Callable[[float], str]) -> str:
    """A number inside a formula: in parentheses when negative, so '· × (-3)' reads well."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def _node(
    value: Value,
    names: Mapping[Value, str],
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
    state = "unknown" if is_constant_or_target(value) else looks.state(grad)
    rows = [
        _header(value, value.label or names[value], hidden, looks),
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


def _node_tooltip(value: Value, names: Mapping[Value, str], grad: float) -> str:
    what = f"{value.op} node" if value.op else "leaf"
    return f"{names[value]} ({what}): data {value.data!r}, grad {grad!r}"


def _edge_tooltip(input_: str, node: str, flow: float, looks: style.Encoding) -> str:
    return (
        f"{input_} → {node}: gradient sent back = "
        f"{partial(node, input_)} × grad of {node} = {looks.fmt(flow)}"
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
