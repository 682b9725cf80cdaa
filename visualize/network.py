"""Draw an ``MLP`` as neurons in layers, so vanishing or exploding gradients show at a glance.

Each weight is an edge from the neuron (or input) it reads to the neuron it feeds: thick by
``|w|`` or by ``|∂E/∂w|`` (``edge_thickness``), coloured by the sign of the same number.
Each neuron shows its activation ``a`` and its ``∂E/∂z`` from the latest call and backward
pass, filled by ``|∂E/∂z|``. A neuron is greyed out only when its own activation passes no
blame back for this input, which is what a learner means by "dead": a relu that is off (z ≤ 0),
a sigmoid or tanh so saturated that its slope is below ``SATURATED_SLOPE`` (a sigmoid at
a ≈ 0.5 has its largest slope, whatever its tiny ∂E/∂z in a deep network). Exploding neurons
are marked as in ``draw_graph``.

The layout is made to be read at 16 neurons a layer: straight edges, room between layers
(more for wider layers), the strongest edges opaque and the rest faint, no arrowheads once
a layer has more than a few inputs (signals flow left to right), and a legend whose text
size follows the picture's.
Each layer's title gives its activation and its gradient norm sqrt(sum (∂E/∂w)²) with a bar
that loses one block per power of ten below the largest layer's.

A layer of more than ``MAX_EDGES`` weights (16 x 16 = 256 crossing edges are a hairball)
draws only its strongest edges, at least one into each neuron; its title and a caption
under the picture say so (``max_edges=None`` draws them all). The legend stands in a
column of its own, left of the inputs, where no edge runs.

Ids (DOT names and SVG ``id`` attributes): inputs ``x{i}``, neurons their names
(``L{l}.n{j}``), weights their labels (``L{l}.n{j}.w{i}``; only the drawn ones), layer
titles ``layer{l}``, the inputs' title ``inputs`` and the legend ``legend``.

>>> from autograd_lite.nn import MLP
>>> model = MLP(2, [3, 1], seed=0)
>>> model([0.5, -1.0]).backward()
>>> dot = draw_network(model)
>>> "L1.n0.w2" in dot.source
True
"""

from __future__ import annotations

import math

import graphviz

from autograd_lite import Value
from autograd_lite.checks import (
    check_choice,
    check_count,
    check_format,
    check_instance,
    check_number,
)
from autograd_lite.names import input_name, weight, weighted_sum_parts
from autograd_lite.nn import MLP, Layer, Neuron
from autograd_lite.visualize import style
from autograd_lite.visualize.graph import RANKDIRS

EDGE_THICKNESS = ("weight", "grad")
BAR_BLOCKS = 10  # the gradient-norm bar of a layer: one block per power of ten
SATURATED_SLOPE = 1e-3  # a sigmoid or tanh slope below this passes (almost) no blame back
STRONG = 0.5  # edges at least this strong (0..1, see style.strength) are drawn opaque
FAINT = "40"  # alpha of the others, appended to their colour
ARROWS_UP_TO = 4  # a layer with more inputs than this is drawn without arrowheads
# a layer of more weights than this draws only its strongest: 16 x 16 = 256 crossing edges
# are a hairball in which no path can be followed
MAX_EDGES = 64


def draw_network(
    model: MLP,
    *,
    edge_thickness: str = "weight",
    rankdir: str = "LR",
    number_format: str = ".3g",
    explode_threshold: float = 10.0,
    dead_threshold: float = 1e-8,
    legend: bool = True,
    names_only: bool = False,
    max_edges: int | None = MAX_EDGES,
) -> graphviz.Digraph:
    """The network diagram of ``model`` as a ``graphviz.Digraph`` (displays in Jupyter).

    Call the model and ``backward()`` first to see activations and gradients; the diagram
    shows the latest call. ``edge_thickness`` is "weight" (``|w|``, linear scale, colour by
    the sign of ``w``) or "grad" (``|∂E/∂w|``, log scale, colour by its sign).
    ``names_only`` draws the model as if never called: no activation, no gradient, only
    names and weights (the model is only read, as always). ``max_edges`` caps the edges
    drawn between two layers: a layer with more weights draws only its ``max_edges``
    strongest (by the number that sets the thickness), at least one into each neuron, and
    the layer's title and the caption under the picture say how many (None draws all). The
    other options are those of ``draw_graph``.

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(1, [1], seed=0)
    >>> "∂E/∂z" in draw_network(model).source    # not called yet: names only
    False
    """
    check_instance("draw_network", "model", model, MLP, "an MLP")
    check_choice("draw_network", "edge_thickness", edge_thickness, EDGE_THICKNESS)
    check_choice("draw_network", "rankdir", rankdir, RANKDIRS)
    check_format("draw_network", "number_format", number_format)
    check_number("draw_network", "explode_threshold", explode_threshold, above=0, finite=False)
    check_number("draw_network", "dead_threshold", dead_threshold, finite=False)
    if max_edges is not None:
        check_count("draw_network", "max_edges", max_edges)

    neurons = [neuron for layer in model.layers for neuron in layer.neurons]
    weights = [w for neuron in neurons for w in neuron.w]

    def grad_of(w: Value) -> float:
        return 0.0 if names_only else w.grad

    called = [] if names_only else [n for n in neurons if n.z is not None]
    blames = [n.z.grad for n in called]  # ∂E/∂z of each called neuron
    looks = style.Encoding(
        number_format,
        dead_threshold,
        explode_threshold,
        top_grad=style.largest(blames),
        # before any backward pass every gradient is 0: there is nothing to judge yet
        known=any(grad_of(w) != 0.0 for w in weights) or any(g != 0.0 for g in blames),
    )
    by_grad = edge_thickness == "grad"
    scale = "log" if by_grad else "linear"
    top_edge = style.largest(grad_of(w) if by_grad else w.data for w in weights)
    norms = [0.0 if names_only else _weight_norm(layer) for layer in model.layers]
    top_norm = style.largest(norms)
    drawn = {  # the weights whose edges are drawn: all, or each big layer's strongest
        layer.neurons[j].w[i]
        for layer in model.layers
        for j, i in strongest(
            [[grad_of(w) if by_grad else w.data for w in n.w] for n in layer.neurons], max_edges
        )
    }

    widest = max([model.nin, *model.nouts])
    dot = graphviz.Digraph("network")
    # room between layers grows with their width, so a fan of 16 x 16 edges can be followed
    ranksep = f"{max(0.6, 0.14 * widest):.2f}"
    dot.attr(rankdir=rankdir, fontname=style.FONT, nodesep="0.15", ranksep=ranksep)
    dot.attr(splines="line", outputorder="edgesfirst")  # straight edges, under the boxes
    dot.attr("node", shape="box", fontname=style.FONT, fontsize="10", margin="0.06,0.03")
    arrows = max([model.nin, *model.nouts[:-1]]) <= ARROWS_UP_TO
    dot.attr("edge", arrowsize="0.4", arrowhead="normal" if arrows else "none")

    inputs = [
        (input_name(i), _input_label(i, x, looks), {"style": "rounded", "color": "#555555"})
        for i, x in enumerate(_latest_inputs(model, names_only))
    ]
    _column(dot, "inputs", style.table([style.row("inputs")]), inputs)
    sources = [name for name, _, _ in inputs]
    inactive: set[str] = set()  # neurons whose output is 0 for this input (relu off)
    for number, (layer, norm) in enumerate(zip(model.layers, norms)):
        shown = sum(w in drawn for n in layer.neurons for w in n.w)
        title = _layer_title(layer, norm, top_norm, looks, shown)
        cells = [_neuron(n, looks, names_only) for n in layer.neurons]
        _column(dot, f"layer{number}", title, cells)
        for neuron in layer.neurons:
            for i, (source, w) in enumerate(zip(sources, neuron.w)):
                if w not in drawn:
                    continue
                name = weight(neuron.name, i)
                carried = grad_of(w) if by_grad else w.data
                attributes = style.edge_attributes(carried, top_edge, scale)
                silent = source in inactive  # it carries 0 × w for this input
                if silent or style.strength(abs(carried), top_edge, scale) < STRONG:
                    attributes["color"] += FAINT  # the strongest live edges stand out
                tooltip = f"{name} = {w.data:.6g}" + (
                    "" if names_only else f", ∂E/∂w = {w.grad:.6g}"
                )
                dot.edge(source, neuron.name, id=name, tooltip=tooltip, **attributes)
        sources = [neuron.name for neuron in layer.neurons]
        inactive = {  # names only: no call to judge
            n.name
            for n in layer.neurons
            if not names_only and not _passes_blame(n) and n.a.data == 0.0
        }

    if legend:
        _add_legend(dot, looks, by_grad, top_edge, small=len(neurons) + model.nin <= 8)
    if len(drawn) < len(weights):
        dot.attr(label=_caption(len(drawn), len(weights), max_edges, by_grad))
        dot.attr(labelloc="b", labeljust="l", fontsize="11")
    return dot


def blocks(norm: float, top: float) -> int:
    """How many of the ``BAR_BLOCKS`` blocks a layer's bar fills: one fewer per power of ten
    below ``top``, the largest layer's norm.

    >>> blocks(0.5, 0.5), blocks(0.05, 0.5), blocks(0.0049, 0.5), blocks(0.0, 0.5)
    (10, 9, 7, 0)
    """
    if norm <= 0.0 or top <= 0.0:
        return 0
    return max(0, min(BAR_BLOCKS, BAR_BLOCKS + math.floor(math.log10(norm / top) + 1e-9)))


def _weight_norm(layer: Layer) -> float:
    """sqrt(sum (∂E/∂w)²) over the layer's weights (biases left out)."""
    return style.grad_norm(w for neuron in layer.neurons for w in neuron.w)


def _column(
    dot: graphviz.Digraph, title_id: str, title: str, cells: list[tuple[str, str, dict]]
) -> None:
    """One column of the diagram: a title node, then the (name, label, attributes) nodes.

    A rank=same subgraph (not a cluster: graphviz sizes cluster labels wrongly in LR
    layouts); invisible edges keep the nodes in order, title first, then n0, n1, ...
    """
    with dot.subgraph(name=f"column_{title_id}") as column:
        column.attr(rank="same")
        column.node(title_id, title, id=title_id, shape="plain")
        previous = title_id
        for name, label, attributes in cells:
            column.node(name, label, id=name, **attributes)
            column.edge(previous, name, style="invis")
            previous = name


def _latest_inputs(model: MLP, names_only: bool = False) -> list[Value | None]:
    """The input Values of the model's latest call (read off the first weighted sum)."""
    first = model.layers[0].neurons[0]
    n = len(first.w)
    if names_only or first.z is None or first.z.op != "weighted_sum":
        return [None] * n  # not called yet, or op_by_op: names only
    return list(weighted_sum_parts(first.z.inputs).activations)


def _input_label(i: int, x: Value | None, looks: style.Encoding) -> str:
    rows = [style.row(input_name(i), bold=True)]
    if x is not None:
        rows.append(style.row(looks.fmt(x.data)))
    return style.table(rows)


def _bar(full: int) -> str:
    """The gradient-norm bar as a table of ``BAR_BLOCKS`` cells, ``full`` of them dark."""
    colours = ["#333333"] * full + ["#E0E0E0"] * (BAR_BLOCKS - full)
    cells = "".join(
        f'<TD WIDTH="7" HEIGHT="7" FIXEDSIZE="TRUE" BGCOLOR="{colour}"></TD>' for colour in colours
    )
    # a fixed size: Graphviz would stretch the bar to the width of a wider title
    size = f'FIXEDSIZE="TRUE" WIDTH="{8 * BAR_BLOCKS + 1}" HEIGHT="9"'
    return f'<TABLE BORDER="0" CELLSPACING="1" CELLPADDING="0" {size}><TR>{cells}</TR></TABLE>'


def strongest(strengths: list[list[float]], max_edges: int | None) -> list[tuple[int, int]]:
    """The edges of one layer to draw, as (neuron j, input i), given the number that sets each
    edge's thickness (``strengths[j][i]``: the weight, or its gradient): all of them when
    there are at most ``max_edges`` (or it is None); else the ``max_edges`` strongest by
    magnitude, among them each neuron's strongest input, so that no neuron looks cut off.
    Not a number counts as strongest (an exploding gradient must show).

    >>> strongest([[0.1, -0.9], [0.2, 0.3]], 3)           # the weakest of the 4 is left out
    [(0, 1), (1, 0), (1, 1)]
    >>> strongest([[5.0, 4.0, 3.0], [0.0, 0.1, 0.0]], 2)  # the second neuron keeps its 0.1
    [(0, 0), (1, 1)]
    """
    edges = [(j, i) for j, row in enumerate(strengths) for i in range(len(row))]
    if max_edges is None or len(edges) <= max_edges:
        return edges

    def magnitude(edge: tuple[int, int]) -> float:
        x = abs(strengths[edge[0]][edge[1]])
        return x if math.isfinite(x) else math.inf

    by_strength = sorted(edges, key=magnitude, reverse=True)  # stable: ties in order
    kept = {  # each neuron's strongest input
        max(((j, i) for i in range(len(row))), key=magnitude) for j, row in enumerate(strengths)
    }
    for edge in by_strength:
        if len(kept) >= max_edges:
            break
        kept.add(edge)
    return sorted(kept)


def _caption(shown: int, total: int, max_edges: int | None, by_grad: bool) -> str:
    """The note under a network drawn with only its strongest edges."""
    what = "|∂E/∂w|" if by_grad else "|w|"
    return (
        f"showing the {shown:,} strongest of {total:,} weights (by {what}): a layer of more "
        f"than {max_edges} weights draws its {max_edges} strongest,\\l"
        f"at least one into each neuron; draw_network(model, max_edges=None) draws them all\\l"
    )


def _layer_title(
    layer: Layer, norm: float, top_norm: float, looks: style.Encoding, shown: int
) -> str:
    """'L0 · tanh · 16 neurons', how many of its weights are drawn when not all, then the
    gradient norm and its bar."""
    count = len(layer.neurons)
    rows = [style.row(f"{layer.name} · {layer.activation} · {count} neuron{'s' * (count > 1)}")]
    total = sum(len(neuron.w) for neuron in layer.neurons)
    if shown < total:
        rows.append(style.row(f"{shown} strongest of {total} weights drawn"))
    if looks.known:
        rows.append(style.row(f"gradient norm {looks.fmt(norm)}"))
        rows.append(f"<TR><TD>{_bar(blocks(norm, top_norm))}</TD></TR>")
    return style.table(rows)


def _neuron(
    neuron: Neuron, looks: style.Encoding, names_only: bool = False
) -> tuple[str, str, dict[str, str]]:
    """(name, label, attributes) of a neuron's node (its latest call unless ``names_only``)."""
    rows = [style.row(neuron.name, bold=True)]
    tooltip = f"{neuron.name} ({neuron.activation}), bias {neuron.b.data:.6g}"
    grad, state = 0.0, "unknown"
    if neuron.z is not None and not names_only:
        grad = neuron.z.grad
        shown = "z" if neuron.a is neuron.z else "a"  # a linear neuron's output is z
        rows.append(style.row(f"{shown} {looks.fmt(neuron.a.data)}"))
        tooltip += f", z {neuron.z.data:.6g}, a {neuron.a.data:.6g}, ∂E/∂z {grad:.6g}"
        state = looks.state(grad)
        if state in ("ok", "dead"):  # judged by the neuron's own slope, not by |∂E/∂z|
            state = "ok" if _passes_blame(neuron) else "dead"
        if looks.known:
            rows.append(style.row(f"∂E/∂z {looks.fmt(grad)}"))
            if state == "exploding":
                rows.append(looks.mark_row(grad, state))
    attributes = looks.node_attributes(grad, state)
    return neuron.name, style.table(rows), {**attributes, "tooltip": tooltip}


def _passes_blame(neuron: Neuron) -> bool:
    """False when the neuron's activation is flat at its latest z: ∂a/∂z is 0 (a relu that is
    off) or below ``SATURATED_SLOPE`` (a saturated sigmoid or tanh). Its inputs then learn
    nothing from this sample, whatever the error upstream.

    >>> neuron = Neuron(1, activation="relu")
    >>> neuron.w[0].data = -1.0
    >>> _ = neuron([1.0]); _passes_blame(neuron)
    False
    >>> neuron = Neuron(1, activation="sigmoid")
    >>> neuron.w[0].data = 0.0
    >>> _ = neuron([1.0]); _passes_blame(neuron)      # a = 0.5: its steepest point
    True
    """
    if neuron.z is None or neuron.a is neuron.z:  # not called yet, or linear
        return True
    slope = neuron.a.local_grads[0]
    return abs(slope) >= SATURATED_SLOPE


def _add_legend(
    dot: graphviz.Digraph, looks: style.Encoding, by_grad: bool, top: float, *, small: bool
) -> None:
    if by_grad:
        edge_lines = ("∂E/∂w > 0: descent lowers w", "∂E/∂w < 0: descent raises w", "∂E/∂w = 0")
        thickness = (
            f"thickest: |∂E/∂w| = {looks.fmt(top)}",
            f"thinnest: ≤ {looks.fmt(top * 10.0**-style.DECADES)} (log scale)",
        )
    else:
        edge_lines = ("weight w > 0", "weight w < 0", "weight w = 0")
        thickness = (f"thickest: |w| = {looks.fmt(top)}", "thinnest: |w| ≈ 0 (linear scale)")
    label = looks.legend(
        edge_lines=edge_lines,
        thickness_lines=thickness,
        fill_line="neuron fill: |∂E/∂z| ≈",
        notes=[(_bar(7), "layer gradient norm √Σ(∂E/∂w)²: a block less per power of 10")],
        dead_line=f"inactive here: relu z ≤ 0, or sigmoid/tanh slope < {SATURATED_SLOPE:g}",
        faint_line=f"faint: under {STRONG:.0%} of the thickest, or from an inactive neuron",
        compact=small,
    )
    style.add_legend(dot, label, fontsize="7" if small else "9")
