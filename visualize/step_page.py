"""One HTML file in which the gradient flows, step by step, over the picture of a graph.

``export_html(root, path)`` records the forward pass and every chain-rule application of
the backward pass from ``root`` (the engine's chain-rule loop is the source of truth: the
page only replays what was recorded, it computes nothing), and writes one self-contained
file: the SVG of ``draw_graph``, the recorded steps as JSON, and the script and style of
``visualize/page/``, all inline. The graph is only read: no ``grad`` changes.

>>> import tempfile
>>> from autograd_lite import Value
>>> x = Value(2.0, label="x")
>>> y = (x * x).tanh(); y.label = "y"
>>> page = export_html(y, tempfile.mkdtemp() + "/square")
>>> page.name, x.grad          # the graph's gradients are left as they were
('square.html', 0.0)
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import graphviz

from autograd_lite import Value, topological_order
from autograd_lite.checks import check_count, check_format, check_instance, check_number
from autograd_lite.debugging import BackwardStep, without_constants
from autograd_lite.gradients import steps_on_a_copy
from autograd_lite.names import is_constant_or_target
from autograd_lite.narrate import describe_forward, node_names
from autograd_lite.notation import describe_step, in_derivative, name_of, partial
from autograd_lite.stepping import forward_steps
from autograd_lite.visualize import style
from autograd_lite.visualize.graph import (
    collapses_by_default,
    draw_graph,
    edge_ids,
    folded_parameters,
    graph_ids,
)
from autograd_lite.visualize.page_file import check_title, html_path, write_page
from autograd_lite.visualize.svg import prepare_svg, svg_of
from autograd_lite.walk import positions

__all__ = ["export_html"]


def export_html(
    root: Value,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    seed: float = 1.0,
    collapse_neurons: bool | None = None,
    rankdir: str = "LR",
    show_constants: bool = False,
    number_format: str = ".4g",
    max_nodes: int = 400,
    max_steps: int = 20_000,
    explanation: str | None = None,
    add_suffix: bool = True,
) -> Path:
    """Write a page that steps through the forward and the backward pass of ``root``.

    Returns the path written: ``path``, with ``.html`` added when it ends in neither
    ``.html`` nor ``.htm`` (so that a double-click opens it in a browser); with
    ``add_suffix=False``, exactly ``path``. The page starts before the forward pass: Next
    computes one node at a time, then seeds ∂E/∂E = ``seed`` at ``root``, then applies one
    chain-rule step at a time, highlighting its edge and its two nodes and showing the same
    sentence as ``str(step)``. Every node's grad shows its value at that step.

    * ``collapse_neurons`` -- draw each neuron's weights and bias inside its weighted-sum
      box (``draw_graph``'s option); by default, when the graph has more than
      ``AUTO_COLLAPSE`` nodes and contains weighted sums;
    * ``show_constants`` -- also draw the constants and targets and step into them; by
      default they are left out of the picture (written into their operation, as
      ``draw_graph(hide_constants=True)`` does) and their steps are not shown, as
      ``backward_steps()`` does: their gradients teach nothing (``names.is_constant_or_target``);
    * ``rankdir``, ``number_format``, ``max_nodes`` -- as in ``draw_graph``; a format
      ``'.Ng'`` also gives the sentences of the steps N significant digits (else 4);
    * ``max_steps`` -- refuse (``ValueError``) graphs with more chain-rule steps shown than
      this, counted before anything is recorded (a page per step of a huge graph would be
      too big to be useful);
    * ``explanation`` -- a text shown in a panel that opens on demand, such as
      ``autograd_lite.narrate.explain(root)`` (each gradient as a chain of local derivatives).

    The recording is a backward pass from zero gradients kept apart from the graph: no
    ``grad`` of the graph changes (so hooks registered on its nodes do not run). Without
    Graphviz's ``dot`` the page lists the nodes in a table instead of the picture.

    >>> import tempfile
    >>> from autograd_lite import Value
    >>> a = Value(-1.5, label="a")
    >>> export_html(a.relu(), tempfile.mkdtemp() + "/relu.html").suffix
    '.html'
    """
    check_instance("export_html", "root", root, Value, "a Value")
    check_instance("export_html", "add_suffix", add_suffix, bool, "a bool")
    target = html_path("export_html", path, add_suffix)
    check_title("export_html", title)
    check_instance("export_html", "explanation", explanation, (str, type(None)), "a str or None")
    check_number("export_html", "seed", seed)
    check_format("export_html", "number_format", number_format)
    check_count("export_html", "max_steps", max_steps)
    order = topological_order(root)
    # the steps the page will show, one per edge (those into constants only if shown)
    step_count = sum(
        show_constants or not is_constant_or_target(input_)
        for node in order
        for input_ in node.inputs
    )
    if step_count > max_steps:
        raise ValueError(
            f"export_html: the backward pass of this graph has {step_count} steps, more than "
            f"max_steps={max_steps}; export a smaller graph (one sample) or raise max_steps"
        )
    if collapse_neurons is None:
        collapse_neurons = collapses_by_default(order)  # draw_graph's rule

    folded = folded_parameters(root) if collapse_neurons else {}
    record, widest = _record_passes(root, order, float(seed), number_format, folded, show_constants)
    # Each box is drawn with its widest recorded grad (and norm of folded parameters), so
    # every step's number fits; the root with 0, so that draw_graph judges no gradient and
    # draws every node and edge plain (the page paints them step by step).
    widest[root] = 0.0
    digraph = draw_graph(
        root,
        rankdir=rankdir,
        hide_constants=not show_constants,
        number_format=number_format,
        collapse_neurons=collapse_neurons,
        max_nodes=max_nodes,
        explode_threshold=math.inf,  # no "dead" or "exploding" marks for widths
        dead_threshold=-1.0,
        edge_labels=False,
        legend=False,
        grads=widest,
        row_ids=True,
    )
    names = [node["name"] for node in record["nodes"]]
    picture, drawn = _picture(digraph, order, names, number_format)
    record["nodes"] = [
        {**node, "id": node["id"] if node["id"] in drawn else None} for node in record["nodes"]
    ]
    for step in record["forward"]:
        step["edges"] = [edge for edge in step["edges"] if edge in drawn]
    for step in record["backward"]:
        if step["edge"] not in drawn:
            step["edge"] = None
    if explanation is not None:
        record["explanation"] = explanation
    heading = title or f"Backpropagation through {name_of(root)}"
    return write_page(target, "graph", heading, {"picture": picture}, record)


def _chain_rule_steps(
    root: Value, seed: float
) -> tuple[Iterator[BackwardStep], Callable[[Value], float]]:
    """The steps of a backward pass from zero gradients, and each node's gradient so far.

    The engine's chain-rule loop runs on a copy of the graph, so no ``grad`` of the graph
    changes; the steps name the original nodes.
    """
    steps, copies = steps_on_a_copy(root, seed, BackwardStep)
    return steps, lambda node: copies[node].grad


def _record_passes(
    root: Value,
    order: list[Value],
    seed: float,
    number_format: str,
    folded: dict[Value, list[Value]],
    show_constants: bool = False,
) -> tuple[dict[str, object], dict[Value, float]]:
    """The page data: every node, each forward step, the seed and each backward step; and
    per node the recorded grad with the longest text (for a parameter folded into a box,
    its grad when the box's norm had the longest text).

    ``folded`` maps a box to the parameters drawn inside it: each step into one of them
    records the new norm of their gradients.

    Numbers are written as text here, so the page shows exactly the engine's values. Steps
    into constants and targets are left out unless ``show_constants``.
    """
    index = positions(order)
    ids, edges = graph_ids(root), edge_ids(root)
    names = node_names(root)  # what the narration calls each node: the root is E
    digits = _significant_digits(number_format)

    def fmt(x: float) -> str:
        return style.fmt(x, number_format)

    nodes = [
        {
            "id": ids[node],
            "name": names[node],
            "after_d": in_derivative(names[node]),  # as written after ∂: ∂(*)/∂x
            "data": fmt(node.data),
            "leaf": not node.inputs,
        }
        for node in order
    ]
    forward = [
        {
            "node": index[step.node],
            "inputs": sorted({index[v] for v in step.inputs}),
            "edges": sorted({edges[v, step.node] for v in step.inputs}),
            "text": describe_forward(step.node, names=names, digits=digits)
            + "\n"
            + _local_derivatives(step.node, names, fmt),
        }
        for step in forward_steps(root)
    ]
    widest = dict.fromkeys(order, 0.0)  # per node, the grad with the longest text
    widest_norm = dict.fromkeys(folded, "")  # per box, the longest text of its norm
    inside = {p for parameters in folded.values() for p in parameters}  # drawn in a box
    flows: dict[str, float] = {}  # edge -> gradient it has carried back so far
    backward, new_grads = [], []
    steps, grad_of = _chain_rule_steps(root, seed)
    for step in steps if show_constants else without_constants(steps):
        edge = edges[step.input, step.node]
        flows[edge] = flows.get(edge, 0.0) + step.contribution
        if step.input not in inside and len(fmt(step.input_grad)) > len(fmt(widest[step.input])):
            widest[step.input] = step.input_grad
        backward.append(
            {
                "node": index[step.node],
                "input": index[step.input],
                "edge": edge,
                "text": describe_step(step, names=names, digits=digits),
                "grad": fmt(step.input_grad),
                "flow": style.sign(flows[edge]),
            }
        )
        parameters = folded.get(step.node, ())
        if step.input in parameters:  # the collapsed box of step.node shows their norm
            now = {p: grad_of(p) for p in parameters}
            backward[-1]["params"] = text = fmt(style.norm(now.values()))
            if len(text) > len(widest_norm[step.node]):
                widest_norm[step.node] = text
                widest.update(now)  # drawn with these, the box shows this very text
        new_grads.append(step.input_grad)
    top = style.largest(map(grad_of, order))  # fills on the scale of the final grads
    for step, grad in zip(backward, new_grads):
        step["fill"] = style.fill_colour(grad, top)
    also = f" ({root.label})" if root.label not in ("", "E") else ""
    record = {
        "zero": fmt(0.0),
        "nodes": nodes,
        "forward": forward,
        "seed": {
            "node": index[root],
            "grad": fmt(seed),
            "text": f"∂E/∂E = {fmt(seed)}: the backward pass starts at the output E{also}"
            + (", whose gradient with respect to itself is 1" if seed == 1.0 else ""),
            "fill": style.fill_colour(seed, top),
        },
        "backward": backward,
    }
    return record, widest


def _significant_digits(number_format: str) -> int:
    """The significant digits of a ``'.Ng'`` format, for the sentences (else their 4).

    >>> _significant_digits(".7g"), _significant_digits(".2f")
    (7, 4)
    """
    match = re.fullmatch(r"\.(\d+)[gG]", number_format)
    return max(1, int(match[1])) if match else 4


def _local_derivatives(node: Value, names: dict[Value, str], fmt: Callable) -> str:
    """'local derivatives, kept for the backward pass: ∂z/∂w = 2, ...' of one node."""
    local = ", ".join(
        f"{partial(names[node], names[v])} = {fmt(local_grad)}"
        for v, local_grad in zip(node.inputs, node.local_grads)
    )
    return f"local derivatives, kept for the backward pass: {local}"


def _picture(
    digraph: graphviz.Digraph, order: list[Value], names: list[str], number_format: str
) -> tuple[str, set[str]]:
    """The SVG of the computation graph ready for the page, and the ids of what it draws.

    Without ``dot``: a table of the nodes, which the page updates the same way.
    """
    titles = {f"node{i}": name for i, name in enumerate(names)}
    index = positions(order)
    for (input_, node), edge in edge_ids(order[-1]).items():
        titles[edge] = f"{names[index[input_]]} → {names[index[node]]}"
    svg = svg_of(digraph, "export_html", "the page lists the nodes in a table instead")
    if svg is None:
        return _node_table(order, names, number_format), set(titles)
    return prepare_svg(svg, titles)


def _node_table(order: list[Value], names: list[str], number_format: str) -> str:
    """The nodes as table rows with the same ids and classes as the SVG (no ``dot``)."""
    rows = []
    for i, (node, name) in enumerate(zip(order, names)):
        data = style.fmt(node.data, number_format)
        rows.append(
            f'<tr class="node" id="node{i}"><th>{html.escape(name)}</th>'
            f"<td>{html.escape(node.op or 'leaf')}</td>"
            f'<td class="data" data-prefix="data ">data {data}</td>'
            f'<td class="grad" data-prefix="grad ">grad 0</td></tr>'
        )
    return (
        '<table class="node-table"><thead><tr><th>node</th><th>op</th><th>data</th>'
        f"<th>grad</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
