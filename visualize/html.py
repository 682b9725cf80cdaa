"""One HTML file in which the gradient flows, step by step, over the picture of a graph.

``export_html(root, path)`` records the forward pass and every chain-rule application of
``root.backward_steps()`` (the engine is the source of truth: the page only replays what
was recorded, it computes nothing), and writes one self-contained file: the SVG of
``draw_graph``, the recorded steps as JSON, and the script and style of ``visualize/page/``,
all inline. No network is needed; open it with a double-click.

``export_training_html(model, inputs, targets, path)`` trains a small model for a few
epochs and writes a page with a slider over the epochs: the network diagram, every weight
and its gradient as bars, the loss curve and the predictions.

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
import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from pathlib import Path

import graphviz

from autograd_lite import Value, no_grad, topological_order
from autograd_lite.checks import check_format
from autograd_lite.narrate import (
    describe_forward,
    describe_step,
    in_derivative,
    name_of,
    node_names,
    partial,
    weighted_sum_parts,
)
from autograd_lite.nn import MLP
from autograd_lite.nn.optim import SGD, Optimizer
from autograd_lite.stepping import forward_steps
from autograd_lite.training import LOSSES, evaluate, fit
from visualize import style
from visualize.graph import draw_graph, edge_ids, graph_ids
from visualize.network import draw_network
from visualize.render import INSTALL_HINT

__all__ = ["export_html", "export_training_html"]

PAGE_FILES = Path(__file__).with_name("page")
AUTO_COLLAPSE = 60  # graphs with more nodes than this, built of neurons, are drawn collapsed
SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
ElementTree.register_namespace("", SVG[1:-1])
ElementTree.register_namespace("xlink", XLINK_TITLE[1:-7])


# --- the step-by-step page -----------------------------------------------------------------


def export_html(
    root: Value,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    seed: float = 1.0,
    collapse_neurons: bool | None = None,
    rankdir: str = "LR",
    hide_constants: bool = False,
    number_format: str = ".4g",
    max_nodes: int = 400,
    max_steps: int = 20_000,
) -> Path:
    """Write a page that steps through the forward and the backward pass of ``root``.

    Returns the path written (suffix ``.html``). The page starts before the forward pass:
    Next computes one node at a time, then seeds ∂E/∂E = ``seed`` at ``root``, then applies
    one chain-rule step at a time, highlighting its edge and its two nodes and showing the
    same sentence as ``str(step)``. Every node's grad shows its value at that step.

    * ``collapse_neurons`` -- draw each neuron's weights and bias inside its weighted-sum
      box (``draw_graph``'s option); by default, when the graph has more than
      ``AUTO_COLLAPSE`` nodes and contains weighted sums;
    * ``rankdir``, ``hide_constants``, ``number_format``, ``max_nodes`` -- as in
      ``draw_graph``;
    * ``max_steps`` -- refuse graphs with more chain-rule steps than this (a page per step
      of a huge graph would be too big to be useful).

    The recording runs a backward pass from zero gradients, then puts every ``grad`` of
    the graph back as it was (hooks registered on the nodes do run). Without Graphviz's
    ``dot`` the page lists the nodes in a table instead of the picture.

    >>> import tempfile
    >>> from autograd_lite import Value
    >>> a = Value(-1.5, label="a")
    >>> export_html(a.relu(), tempfile.mkdtemp() + "/relu.html").suffix
    '.html'
    """
    if not isinstance(root, Value):
        raise TypeError(f"export_html: root must be a Value, got {type(root).__name__}: {root!r}")
    target = _html_path(path, "export_html")
    _check_title(title, "export_html")
    if isinstance(seed, bool) or not isinstance(seed, (int, float)) or not math.isfinite(seed):
        raise TypeError(f"export_html: seed must be a finite number, got {seed!r}")
    check_format("export_html", "number_format", number_format)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"export_html: max_steps must be a positive int, got {max_steps!r}")
    order = topological_order(root)
    step_count = sum(len(node.inputs) for node in order)
    if step_count > max_steps:
        raise ValueError(
            f"export_html: the backward pass of this graph has {step_count} steps, more than "
            f"max_steps={max_steps}; export a smaller graph (one sample) or raise max_steps"
        )
    if collapse_neurons is None:
        collapse_neurons = len(order) > AUTO_COLLAPSE and any(
            node.op == "weighted_sum" for node in order
        )

    saved = [node.grad for node in order]
    try:
        for node in order:
            node.grad = 0.0
        record = _record_passes(root, order, float(seed), number_format)
        tokens = _draw_with_stand_ins(order, record.pop("widest"), number_format, collapse_neurons)
        digraph = draw_graph(
            root,
            rankdir=rankdir,
            hide_constants=hide_constants,
            number_format=number_format,
            collapse_neurons=collapse_neurons,
            max_nodes=max_nodes,
            explode_threshold=math.inf,  # no "dead" or "exploding" marks for stand-ins
            dead_threshold=-1.0,
            edge_labels=False,
            legend=False,
        )
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad

    names = [node["name"] for node in record["nodes"]]
    picture, drawn = _picture(digraph, order, names, number_format, tokens)
    record["nodes"] = [
        {**node, "id": node["id"] if node["id"] in drawn else None} for node in record["nodes"]
    ]
    for step in record["forward"]:
        step["edges"] = [edge for edge in step["edges"] if edge in drawn]
    for step in record["backward"]:
        if step["edge"] not in drawn:
            step["edge"] = None
    heading = title or f"Backpropagation through {name_of(root)}"
    return _write_page(target, "graph", heading, {"picture": picture}, record)


def _record_passes(
    root: Value, order: list[Value], seed: float, number_format: str
) -> dict[str, object]:
    """The page data: every node, each forward step, the seed and each backward step.

    Runs ``root.backward_steps(seed)``; the caller has zeroed every grad and restores them.
    Numbers are written as text here, so the page shows exactly the engine's values.
    """
    index = {node: i for i, node in enumerate(order)}
    ids, edges = graph_ids(root), edge_ids(root)
    names = node_names(root)  # what the narration calls each node: the root is E

    def fmt(x: float) -> str:
        return style.fmt(x, number_format)

    nodes = [
        {
            "id": ids[node],
            "name": names[node],
            "after_d": in_derivative(names[node]),  # as written after ∂: ∂(*#1)/∂x
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
            "text": describe_forward(step.node, names=names)
            + "\n"
            + _local_derivatives(step.node, names, fmt),
        }
        for step in forward_steps(root)
    ]
    widest = [0.0] * len(order)  # per node, the grad with the longest text
    flows: dict[str, float] = {}  # edge -> gradient it has carried back so far
    backward, new_grads = [], []
    for step in root.backward_steps(seed):
        edge = edges[step.input, step.node]
        flows[edge] = flows.get(edge, 0.0) + step.contribution
        i = index[step.input]
        if len(fmt(step.input_grad)) > len(fmt(widest[i])):
            widest[i] = step.input_grad
        backward.append(
            {
                "node": index[step.node],
                "input": i,
                "edge": edge,
                "text": describe_step(step, names=names),
                "grad": fmt(step.input_grad),
                "flow": _sign(flows[edge]),
            }
        )
        parameters = _parameters(step.node)
        if step.input in parameters:  # the collapsed box of step.node shows their norm
            backward[-1]["params"] = fmt(style.grad_norm(parameters))
        new_grads.append(step.input_grad)
    top = style.largest(node.grad for node in order)  # fills on the scale of the final grads
    for step, grad in zip(backward, new_grads):
        step["fill"] = style.fill_colour(grad, top)
    also = f" ({root.label})" if root.label not in ("", "E") else ""
    return {
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
        "widest": widest,
    }


def _parameters(node: Value) -> set[Value]:
    """The weights and bias of a weighted sum (labelled leaves; constants left out)."""
    if node.op != "weighted_sum":
        return set()
    weights, _, bias = weighted_sum_parts(node)
    return {v for v in (*weights, bias) if v.label and not v.inputs}


def _draw_with_stand_ins(
    order: list[Value], widest: list[float], number_format: str, collapse_neurons: bool
) -> dict[str, dict[str, str]]:
    """Give every node a stand-in grad for the drawing; return the texts to look for.

    A stand-in is written as wide as the node's widest recorded grad (so the box fits every
    step's number) with digits of its own (so the page finds the grad text in the SVG
    whatever the rest of the label says). Returns, per node id, the text of its grad, of
    its data and, in the collapsed view, of its parameters' gradient norm.
    """
    tokens = {}
    for i, (node, grad) in enumerate(zip(order, widest)):
        data = style.fmt(node.data, number_format)
        node.grad, grad_text = _stand_in(grad, data, number_format)
        tokens[f"node{i}"] = {"data": data, "grad": grad_text}
    # The root keeps grad 0: then draw_graph judges no gradient and draws every node and
    # edge plain (the page paints them step by step).
    order[-1].grad = 0.0
    tokens[f"node{len(order) - 1}"]["grad"] = style.fmt(0.0, number_format)
    if collapse_neurons:
        for i, node in enumerate(order):
            parameters = _parameters(node)
            if parameters:
                tokens[f"node{i}"]["params"] = style.fmt(style.grad_norm(parameters), number_format)
    return tokens


def _stand_in(grad: float, avoid: str, number_format: str) -> tuple[float, str]:
    """A number written like ``grad`` with its digits replaced by one digit, not ``avoid``.

    >>> _stand_in(-0.0001816, "0.5", ".4g"), _stand_in(0.0, "8", ".4g")
    ((-0.0008888, '-0.0008888'), (7.0, '7'))
    """
    text = style.fmt(grad, number_format) if math.isfinite(grad) else "888"
    for digit in "8739":
        if re.search("[1-9]", text):
            candidate = re.sub("[1-9]", digit, text)
        else:
            candidate = text.replace("0", digit, 1)
        try:
            value = float(candidate)
        except ValueError:  # a number format with letters or signs float() does not read
            break
        if candidate != avoid and style.fmt(value, number_format) == candidate:
            return value, candidate
    return grad, text


def _sign(flow: float) -> str:
    """An edge's colour class by the gradient it carries: 'pos', 'neg', 'zero', 'exploding'."""
    if not math.isfinite(flow):
        return "exploding"
    return "pos" if flow > 0 else "neg" if flow < 0 else "zero"


def _local_derivatives(node: Value, names: dict[Value, str], fmt: Callable) -> str:
    """'local derivatives, kept for the backward pass: ∂z/∂w = 2, ...' of one node."""
    local = ", ".join(
        f"{partial(names[node], names[v])} = {fmt(local_grad)}"
        for v, local_grad in zip(node.inputs, node.local_grads)
    )
    return f"local derivatives, kept for the backward pass: {local}"


# --- the training page -------------------------------------------------------------------

MAX_EPOCHS = 2000  # one recorded state per epoch: beyond this the slider is useless
CHART = (560, 190, 52, 14, 28)  # loss chart: width, height, left, top and bottom margins


def export_training_html(
    model: MLP,
    inputs: Sequence[Sequence[float]],
    targets: Sequence,
    path: str | os.PathLike,
    *,
    loss: str = "mse",
    epochs: int = 100,
    optimizer: Optimizer | None = None,
    title: str | None = None,
    number_format: str = ".3g",
) -> Path:
    """Train ``model`` for ``epochs`` full-batch steps and write a page to replay them.

    The model is trained in place, with ``autograd_lite.training.fit`` (``loss`` is one of
    its names; ``optimizer`` defaults to ``SGD(model.parameters(), lr=0.1)``). A slider runs
    over the epochs; each shows the network diagram with every weight drawn as thick as
    ``|w|``, a table of every weight and bias with its gradient ∂E/∂w and its value after
    the step, the loss curve and the model's output for each sample.

    >>> import tempfile
    >>> from autograd_lite.nn import MLP, data
    >>> points, labels = data.xor()
    >>> model = MLP(2, [3, 1], seed=0)
    >>> page = export_training_html(model, points, labels, tempfile.mkdtemp() + "/xor", epochs=5)
    >>> page.name
    'xor.html'
    """
    if not isinstance(model, MLP):
        raise TypeError(
            f"export_training_html: model must be an MLP, got {type(model).__name__}: {model!r}"
        )
    target = _html_path(path, "export_training_html")
    _check_title(title, "export_training_html")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(
            f"export_training_html: epochs must be an int from 1 to {MAX_EPOCHS}, got {epochs!r}"
        )
    if loss not in LOSSES:
        raise ValueError(
            f"export_training_html: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}"
        )
    check_format("export_training_html", "number_format", number_format)
    if len(inputs) != len(targets) or not inputs:
        raise ValueError(
            f"export_training_html: needs as many inputs as targets (at least one); "
            f"got {len(inputs)} inputs and {len(targets)} targets"
        )
    optimizer = optimizer or SGD(model.parameters(), lr=0.1)

    parameters = model.parameters()
    history = []  # per epoch: weights, grads (None after the last step), loss, accuracy, outputs
    for epoch in range(epochs + 1):
        weights = [p.data for p in parameters]
        with no_grad():
            outputs = [_outputs(model(x)) for x in inputs]
        if epoch < epochs:
            run = fit(
                model, inputs, targets, loss=loss, optimizer=optimizer, epochs=1, progress=False
            )
            grads, error, accuracy = [p.grad for p in parameters], run.loss[0], run.accuracy[0]
        else:  # the trained model: its loss, no step after it
            grads = None
            error, accuracy = evaluate(model, inputs, targets, loss=loss)
        history.append((weights, grads, error, accuracy, outputs))

    def fmt(x: float) -> str:
        return style.fmt(x, number_format)

    chart, points = _loss_chart([error for _, _, error, _, _ in history], fmt)
    heading = title or (
        f"Training {type(model).__name__}({model.nin}, {model.nouts}) on {len(inputs)} samples"
    )
    parts = {
        "subtitle": html.escape(
            f"{model!r} · loss {loss} · {type(optimizer).__name__} · {epochs} full-batch "
            "steps, one per epoch"
        ),
        "network": _network_picture(model),
        "chart": chart,
        "parameters": _parameter_rows(model),
        "samples": _sample_rows(inputs, targets, fmt),
        "rule": html.escape(_update_rule(optimizer)),
    }
    data = {
        "parameters": [{"label": p.label} for p in parameters],
        "samples": [list(map(fmt, x)) for x in inputs],
        "epochs": _epoch_data(history, points, fmt),
    }
    return _write_page(target, "training", heading, parts, data)


def _update_rule(optimizer: Optimizer) -> str:
    """How the optimizer turns a gradient into a new weight, in words."""
    if type(optimizer) is SGD and not optimizer.momentum and not optimizer.weight_decay:
        return f"gradient descent, w − {optimizer.learning_rate():g} × ∂E/∂w,"
    return f"{type(optimizer).__name__}, from ∂E/∂w and what it remembers of earlier steps,"


def _outputs(output: Value | list[Value]) -> list[float]:
    return [v.data for v in output] if isinstance(output, list) else [output.data]


def _epoch_data(history: list[tuple], points: list[list[float]], fmt: Callable) -> list[dict]:
    """Per epoch, the texts and bar widths the page shows (bars: 0 to 100 percent)."""
    top_weight = style.largest(w for weights, *_ in history for w in weights)
    top_grad = style.largest(g for _, grads, *_ in history for g in grads or ())

    def bar(x: float, top: float, scale: str) -> list:
        return [fmt(x), round(100 * style.strength(x, top, scale), 1), _sign(x)]

    epochs = []
    for (weights, grads, error, accuracy, outputs), point in zip(history, points):
        edges = [style.edge_attributes(w, top_weight, "linear") for w in weights]
        epochs.append(
            {
                "loss": fmt(error),
                "accuracy": "" if accuracy is None else f"{accuracy:.0%}",
                "weights": [bar(w, top_weight, "linear") for w in weights],
                "grads": None if grads is None else [bar(g, top_grad, "log") for g in grads],
                "edges": [[edge["color"], edge["penwidth"]] for edge in edges],
                "outputs": [", ".join(map(fmt, output)) for output in outputs],
                "point": point,
            }
        )
    return epochs


def _loss_chart(losses: list[float], fmt: Callable) -> tuple[str, list[list[float]]]:
    """An SVG line of the loss per epoch, and the point of each epoch (for the marker)."""
    width, height, left, top, bottom = CHART
    highest = max(max((x for x in losses if math.isfinite(x)), default=0.0), 1e-12)
    span = max(len(losses) - 1, 1)
    base, right = height - bottom, width - 10
    points = [
        [
            round(left + (right - left) * epoch / span, 2),
            round(base - (base - top) * min(x, highest) / highest, 2) if math.isfinite(x) else top,
        ]
        for epoch, x in enumerate(losses)
    ]
    line = " ".join(f"{x},{y}" for x, y in points)
    svg = (
        f'<svg class="loss-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="loss per epoch">'
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>'
        f'<line class="axis" x1="{left}" y1="{base}" x2="{right}" y2="{base}"/>'
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{fmt(highest)}</text>'
        f'<text x="{left - 6}" y="{base}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{height - 8}">epoch 0</text>'
        f'<text x="{right}" y="{height - 8}" text-anchor="end">{len(losses) - 1}</text>'
        f'<text x="{(left + right) / 2}" y="{height - 8}" text-anchor="middle">'
        "loss E per epoch</text>"
        f'<polyline class="curve" points="{line}"/>'
        f'<line class="cursor" id="loss-cursor" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>'
        f'<circle class="marker" id="loss-marker" r="5" cx="{left}" cy="{top}"/></svg>'
    )
    return svg, points


def _network_picture(model: MLP) -> str:
    """The network diagram with names only: the page sets each weight's thickness per epoch."""
    neurons = [neuron for layer in model.layers for neuron in layer.neurons]
    parameters = model.parameters()
    latest = [(neuron.z, neuron.a) for neuron in neurons]
    grads = [p.grad for p in parameters]
    try:  # as if never called: names only, not the numbers of one sample or one epoch
        for neuron in neurons:
            neuron.z = neuron.a = None
        for p in parameters:
            p.grad = 0.0
        digraph = draw_network(model, edge_thickness="weight", legend=False)
    finally:
        for neuron, (z, a) in zip(neurons, latest):
            neuron.z, neuron.a = z, a
        for p, grad in zip(parameters, grads):
            p.grad = grad
    svg = _svg(digraph, "export_training_html", "the page shows no network diagram")
    if svg is None:
        return '<p class="rule">(no diagram: Graphviz is not installed)</p>'
    return _prepare_svg(svg, {p.label: p.label for p in parameters}, {})[0]


def _parameter_rows(model: MLP) -> str:
    """Table rows: one title row per neuron, then one row per weight and bias."""
    rows = []
    for layer in model.layers:
        for neuron in layer.neurons:
            rows.append(
                f'<tr class="neuron"><td colspan="6">{html.escape(neuron.name)} '
                f"· {html.escape(neuron.activation)}</td></tr>"
            )
            for p in neuron.parameters():
                rows.append(
                    f'<tr id="row-{html.escape(p.label)}"><td>{html.escape(p.label)}</td>'
                    '<td class="num weight"></td><td><div class="bar"><span class="weight-bar">'
                    '</span></div></td><td class="num grad"></td><td><div class="bar">'
                    '<span class="grad-bar"></span></div></td><td class="num after"></td></tr>'
                )
    return "".join(rows)


def _sample_rows(inputs: Sequence, targets: Sequence, fmt: Callable) -> str:
    def text(x: object) -> str:
        if isinstance(x, (list, tuple)):
            return ", ".join(map(text, x))
        return fmt(x) if isinstance(x, float) else html.escape(str(x))

    return "".join(
        f'<tr><td class="num">{text(list(x))}</td><td class="num">{text(y)}</td>'
        f'<td class="num" id="output-{i}"></td></tr>'
        for i, (x, y) in enumerate(zip(inputs, targets))
    )


# --- the picture -------------------------------------------------------------------------


def _picture(
    digraph: graphviz.Digraph,
    order: list[Value],
    names: list[str],
    number_format: str,
    tokens: dict[str, dict[str, str]],
) -> tuple[str, set[str]]:
    """The SVG of the computation graph ready for the page, and the ids of what it draws.

    Without ``dot``: a table of the nodes, which the page updates the same way.
    """
    titles = {f"node{i}": name for i, name in enumerate(names)}
    index = {node: i for i, node in enumerate(order)}
    for (input_, node), edge in edge_ids(order[-1]).items():
        titles[edge] = f"{names[index[input_]]} → {names[index[node]]}"
    svg = _svg(digraph, "export_html", "the page lists the nodes in a table instead")
    if svg is None:
        return _node_table(order, names, number_format), set(titles)
    return _prepare_svg(svg, titles, tokens)


def _svg(digraph: graphviz.Digraph, operation: str, instead: str) -> str | None:
    """The SVG drawn by ``dot``, or None (and a hint on stderr) when Graphviz is missing."""
    try:
        return digraph.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        print(
            f"{operation}: Graphviz's `dot` program was not found, so {instead}.\n  {INSTALL_HINT}",
            file=sys.stderr,
        )
        return None


def _prepare_svg(
    svg: str, titles: dict[str, str], tokens: dict[str, dict[str, str]]
) -> tuple[str, set[str]]:
    """Ready an SVG of Graphviz for the page; returns it and the ids of its nodes and edges.

    In each node, marks the texts that show ``tokens`` (class ``grad``, ``data`` or
    ``params``; the text around the number in ``data-prefix`` and ``data-suffix``) so the
    page can rewrite them, and the box's outline (class ``shape``). Tooltips, which would
    show stale numbers, become ``titles``.
    """
    tree = ElementTree.fromstring(svg)
    drawn = set()
    for group in tree.iter(f"{SVG}g"):
        kind, name = group.get("class"), group.get("id", "")
        if kind not in ("node", "edge"):
            continue
        drawn.add(name)
        for link in group.iter(f"{SVG}a"):
            link.attrib.pop(XLINK_TITLE, None)
        title = group.find(f"{SVG}title")
        if title is not None:
            title.text = titles.get(name, "")
        if kind == "node":
            _mark_node(group, tokens.get(name, {}))
    graph_title = tree.find(f"{SVG}g/{SVG}title")
    if graph_title is not None:
        graph_title.text = ""
    return ElementTree.tostring(tree, encoding="unicode"), drawn


def _mark_node(group: ElementTree.Element, tokens: dict[str, str]) -> None:
    shape = next((el for el in group.iter() if el.tag in (f"{SVG}path", f"{SVG}polygon")), None)
    if not tokens or shape is None:
        return
    shape.set("class", "shape")
    numbers = re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", shape.get("d") or shape.get("points"))
    xs = [float(x) for x in numbers[0::2]]
    texts = list(group.iter(f"{SVG}text"))
    header = min((float(t.get("y", 0)) for t in texts), default=0.0)
    rows = [t for t in texts if float(t.get("y", 0)) != header]  # the title row holds no number
    for field in ("data", "grad", "params"):  # top to bottom, as the rows are
        if field not in tokens:
            continue
        # the number on its own: not a piece of a longer number or of a name
        pattern = re.compile(rf"(?<![\w.\-]){re.escape(tokens[field])}(?![\w.])")
        for text in rows:
            found = pattern.search(text.text or "")
            if found and not text.get("class"):
                text.set("class", field)
                text.set("data-prefix", text.text[: found.start()])
                text.set("data-suffix", text.text[found.end() :])
                text.set("text-anchor", "middle")  # new numbers stay centred in the box
                text.set("x", f"{(min(xs) + max(xs)) / 2:.2f}")
                break


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


# --- writing the file ----------------------------------------------------------------------


def _html_path(path: object, operation: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{operation}: path must be a str or a Path, got {type(path).__name__}")
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        target = target.with_name(target.name + ".html")
    return target


def _check_title(title: object, operation: str) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{operation}: title must be a str or None, got {title!r}")


def _fill(template: str, parts: dict[str, str]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``parts[name]`` (one pass, so the
    inserted script and style are never scanned again)."""
    return re.sub(r"\{\{(\w+)\}\}", lambda match: parts[match.group(1)], template)


def _asset(name: str) -> str:
    return (PAGE_FILES / name).read_text(encoding="utf-8")


def _write_page(target: Path, mode: str, title: str, parts: dict[str, str], data: dict) -> Path:
    """Put the body (``page/{mode}.html`` filled with ``parts``), the data, the script and
    the style into one file."""
    # "<" escaped: no text in the data can close the <script> element that holds it
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    body = _fill(_asset(f"{mode}.html"), {**parts, "title": html.escape(title)})
    page = _fill(
        _asset("page.html"),
        {
            "title": html.escape(title),
            "mode": mode,
            "style": _asset("page.css"),
            "body": body,
            "data": blob,
            "script": _asset("page.js"),
        },
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
