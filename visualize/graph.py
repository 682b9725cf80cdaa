"""Draw a computation graph so that the gradient flow shows at a glance.

Each Value is a box with its operation, label, ``data`` and ``grad``. Each edge goes from an
input to the node computed from it (the forward direction) and carries, backwards, the
gradient ``local_grad * node.grad`` -- exactly a ``BackwardStep``'s ``contribution``: its
thickness grows with the magnitude, its colour shows the sign (see ``visualize.style``).

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

import graphviz

from autograd_lite import Value, topological_order
from autograd_lite.narrate import weighted_sum_parts
from visualize import style

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
    _check_root(root, "graph_ids")
    return {value: f"node{i}" for i, value in enumerate(topological_order(root))}


def edge_ids(root: Value) -> dict[tuple[Value, Value], str]:
    """The id of every edge, keyed by ``(input, node)``: ``edge{i}_{n}``.

    For a ``BackwardStep`` the edge is ``edge_ids(root)[step.input, step.node]``.

    >>> from autograd_lite import Value
    >>> a = Value(1.0, label="a")
    >>> list(edge_ids(a * 2).values())
    ['edge0_2', 'edge1_2']
    """
    _check_root(root, "edge_ids")
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
) -> graphviz.Digraph:
    """The computation graph of ``root`` as a ``graphviz.Digraph`` (displays in Jupyter).

    * ``rankdir`` -- "LR" (left to right), "TB" (top to bottom), "RL" or "BT";
    * ``hide_constants`` -- leave out unlabelled leaves (the numbers in ``x * 2``); the node
      shows them instead, as in ``*(·, 2)``;
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
    * ``legend`` -- add the box that explains the encodings.

    >>> from autograd_lite import Value
    >>> z = Value(-1.0, label="z").relu(); z.label = "a"
    >>> z.backward()
    >>> "dead" in draw_graph(z).source     # z < 0: relu passes no gradient back
    True
    """
    _check_root(root, "draw_graph")
    style.check_choice(rankdir, RANKDIRS, "rankdir", "draw_graph")
    style.check_number_format(number_format, "draw_graph")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")
    style.check_positive(explode_threshold, "explode_threshold", "draw_graph")
    style.check_number(dead_threshold, "dead_threshold", "draw_graph")

    order = topological_order(root)
    index = {value: i for i, value in enumerate(order)}
    hidden = _hidden_nodes(order, hide_constants or collapse_neurons, collapse_neurons)
    hidden.discard(root)
    drawn = _nearest(root, hidden, max_nodes)
    shown, middle = _overview(root, drawn)

    flows = {  # (input, node) -> gradient it sends back, summed over the slots it fills
        (input_, node): flow
        for node in shown
        for input_, flow in _flows(node).items()
        if input_ in shown
    }
    top_flow = style.largest(flows.values())
    looks = style.Encoding(
        number_format,
        dead_threshold,
        explode_threshold,
        top_grad=style.largest(v.grad for v in shown if not _is_constant(v)),
        known=root.grad != 0.0,  # before backward() every grad is 0: nothing to judge yet
    )
    if edge_labels is None:
        edge_labels = len(shown) <= AUTO_EDGE_LABELS

    dot = graphviz.Digraph("computation_graph")
    dot.attr(rankdir=rankdir, fontname=style.FONT, nodesep="0.25", ranksep="0.45")
    dot.attr("node", shape="box", fontname=style.FONT, fontsize="10", margin="0.08,0.04")
    dot.attr("edge", fontname=style.FONT, fontsize="9", arrowsize="0.6")
    for value in sorted(shown, key=index.__getitem__):
        name = f"node{index[value]}"
        label, attributes = _node(value, hidden, shown, looks)
        dot.node(name, label, id=name, tooltip=_node_tooltip(value), **attributes)
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


def _check_root(root: object, operation: str) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"{operation}: root must be a Value, got {type(root).__name__}: {root!r}")


def _is_constant(value: Value) -> bool:
    return not value.inputs and not value.label


def _hidden_nodes(order: list[Value], constants: bool, parameters: bool) -> set[Value]:
    """Constants, and (``parameters``) leaves used only as weights or bias of weighted sums."""
    hidden = {v for v in order if _is_constant(v)} if constants else set()
    if parameters:
        in_a_sum, used_elsewhere = set(), set()
        for node in order:
            if node.op == "weighted_sum":
                weights, activations, bias = weighted_sum_parts(node)
                in_a_sum.update(weights, [bias])
                used_elsewhere.update(activations)
            else:
                used_elsewhere.update(node.inputs)
        hidden |= {v for v in in_a_sum - used_elsewhere if not v.inputs}
    return hidden


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


def _flows(node: Value) -> dict[Value, float]:
    """Gradient each input receives from ``node``: local_grad * node.grad, summed per input."""
    flows: dict[Value, float] = {}
    for input_, local_grad in zip(node.inputs, node.local_grads):
        flows[input_] = flows.get(input_, 0.0) + local_grad * node.grad
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
    if any(input_ in hidden and _is_constant(input_) for input_ in value.inputs):
        arguments = (
            looks.fmt(v.data) if v in hidden and _is_constant(v) else "·" for v in value.inputs
        )
        operation = f"{value.op}({', '.join(arguments)})"
    text = f"<B>{html.escape(operation)}</B>"
    if value.label:
        text = f"<B>{html.escape(value.label)}</B> = {text}"
    return f"<TR><TD>{text}</TD></TR>"


def _node(
    value: Value, hidden: set[Value], drawn: set[Value], looks: style.Encoding
) -> tuple[str, dict[str, str]]:
    """A Value's label (operation, label, data, grad, marks) and its graphviz attributes."""
    # a constant's gradient teaches nothing: no fill, no marks
    state = "unknown" if _is_constant(value) else looks.state(value.grad)
    rows = [
        _header(value, hidden, looks),
        style.row(f"data {looks.fmt(value.data)}"),
        style.row(f"grad {looks.fmt(value.grad)}"),
    ]
    parameters = [v for v in dict.fromkeys(value.inputs) if v in hidden and not _is_constant(v)]
    if parameters:  # collapsed weights and bias: say how much gradient they got
        norm = looks.fmt(style.grad_norm(parameters))
        rows.append(style.row(f"{len(parameters)} params, grad norm {norm}"))
    lost = sum(1 for v in set(value.inputs) if v not in hidden and v not in drawn)
    if lost:
        rows.append(style.row(f"… {lost} input{'s' * (lost > 1)} not drawn"))
    rows.append(looks.mark_row(value.grad, state))
    return style.table(rows), looks.node_attributes(value.grad, state)


def _node_tooltip(value: Value) -> str:
    what = f"{value.op} node" if value.op else "leaf"
    return f"{_name(value)} ({what}): data {value.data!r}, grad {value.grad!r}"


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
