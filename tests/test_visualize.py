"""Pictures of the gradient flow: the SVG that Graphviz draws is parsed and checked.

Expected numbers are derived by hand in the comments, never read back from the engine.
"""

from __future__ import annotations

import math
import re
import shutil
import struct
import xml.etree.ElementTree as ElementTree

import graphviz
import pytest

from autograd_lite import Value
from autograd_lite.narrate import node_names
from autograd_lite.nn import MLP
from autograd_lite.nn.model import Neuron
from autograd_lite.visualize import (
    draw_graph,
    draw_network,
    edge_ids,
    graph_ids,
    graphviz_available,
    render,
    style,
)
from autograd_lite.visualize.training_page import _network_picture

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(not graphviz_available(), reason="Graphviz's dot is not installed")


# --- reading the SVG ------------------------------------------------------------------------


class Picture:
    """The SVG of a digraph: its node and edge groups by id, their texts and strokes."""

    def __init__(self, digraph: graphviz.Digraph) -> None:
        self.root = ElementTree.fromstring(digraph.pipe(format="svg"))
        groups = list(self.root.iter(f"{SVG}g"))
        self.nodes = {g.get("id"): g for g in groups if g.get("class") == "node"}
        self.edges = {g.get("id"): g for g in groups if g.get("class") == "edge"}

    def value_nodes(self) -> dict[str, ElementTree.Element]:
        """The nodes that are Values (node0, node1, ...), not the legend or the note."""
        return {key: g for key, g in self.nodes.items() if re.fullmatch(r"node\d+", key)}

    @staticmethod
    def text(group: ElementTree.Element) -> str:
        """All text of a node or edge, pieces joined by spaces."""
        return " ".join(t.text.strip() for t in group.iter(f"{SVG}text") if t.text)

    @staticmethod
    def stroke(edge: ElementTree.Element) -> tuple[float, str, bool]:
        """(stroke width, colour, dashed) of an edge's line."""
        path = edge.find(f".//{SVG}path")
        width = float(path.get("stroke-width", "1"))
        return width, path.get("stroke"), path.get("stroke-dasharray") is not None

    @staticmethod
    def outline(node: ElementTree.Element) -> ElementTree.Element:
        return node.find(f".//{SVG}path")


def ids_by_label(root: Value) -> dict[str, str]:
    return {value.label: key for value, key in graph_ids(root).items() if value.label}


def edge_id(root: Value, source: Value, target: Value) -> str:
    return edge_ids(root)[source, target]


# --- computation graph ----------------------------------------------------------------------


def exploding_graph() -> tuple[Value, dict[str, Value]]:
    """E = (w x + b)² with x = 2, w = -3, b = 10.

    p = w x = -6, z = p + b = 4, E = z² = 16. By hand: ∂E/∂z = 2z = 8, ∂E/∂p = ∂E/∂b = 8,
    ∂E/∂w = 8 x = 16 and ∂E/∂x = 8 w = -24: both above the threshold of 10.
    """
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(10.0, "b")
    p = w * x
    p.label = "p"
    z = p + b
    z.label = "z"
    error = z * z
    error.label = "E"
    error.backward()
    return error, {"x": x, "w": w, "b": b, "p": p, "z": z}


@needs_dot
def test_graph_shows_each_value_with_its_numbers():
    error, values = exploding_graph()
    picture = Picture(draw_graph(error))
    nodes = picture.value_nodes()
    assert len(nodes) == 6  # x, w, b, p, z, E: no constants here
    ids = ids_by_label(error)
    expected = {"x": (2, -24), "w": (-3, 16), "b": (10, 8), "p": (-6, 8), "z": (4, 8), "E": (16, 1)}
    for label, (data, grad) in expected.items():
        text = picture.text(nodes[ids[label]])
        assert f"data {data}" in text and f"grad {grad}" in text, text
    assert "*" in picture.text(nodes[ids["p"]])  # the operation is shown


@needs_dot
def test_edges_are_thicker_where_more_gradient_flows_and_coloured_by_sign():
    error, v = exploding_graph()
    picture = Picture(draw_graph(error))
    from_x = picture.stroke(picture.edges[edge_id(error, v["x"], v["p"])])  # carries -24
    from_w = picture.stroke(picture.edges[edge_id(error, v["w"], v["p"])])  # carries 16
    from_b = picture.stroke(picture.edges[edge_id(error, v["b"], v["z"])])  # carries 8
    assert from_x[0] > from_w[0] > from_b[0]
    assert from_x[1].lower() == style.NEGATIVE.lower()
    assert from_w[1].lower() == style.POSITIVE.lower()
    # z * z: one edge carrying z + z = 8 (both slots), labelled with that number
    square = picture.edges[edge_id(error, v["z"], error)]
    assert picture.text(square) == "8"


@needs_dot
def test_exploding_nodes_are_marked_and_no_others():
    error, _ = exploding_graph()
    picture = Picture(draw_graph(error))
    ids = ids_by_label(error)
    marked = {k for k, g in picture.value_nodes().items() if "exploding" in picture.text(g)}
    assert marked == {ids["x"], ids["w"]}  # |grad| 24 and 16 > 10; the others are 8 or 1
    assert picture.outline(picture.nodes[ids["x"]]).get("stroke").lower() == style.EXPLODING.lower()
    # a higher threshold: nothing explodes
    calm = Picture(draw_graph(error, explode_threshold=30.0))
    assert not any("exploding" in calm.text(g) for g in calm.value_nodes().values())


def dead_relu_graph() -> Value:
    """E = relu(w x) + w with x = -1, w = 2: z = w x = -2 < 0, so relu passes nothing back.

    By hand: ∂E/∂a = 1, ∂E/∂z = 0, ∂E/∂x = 0 (dead); ∂E/∂w = 0 + 1 = 1 (the direct path).
    """
    x, w = Value(-1.0, "x"), Value(2.0, "w")
    z = w * x
    z.label = "z"
    a = z.relu()
    a.label = "a"
    error = a + w
    error.label = "E"
    error.backward()
    return error


@needs_dot
def test_dead_nodes_are_marked_grey_and_dashed_and_no_others():
    error = dead_relu_graph()
    picture = Picture(draw_graph(error))
    ids = ids_by_label(error)
    nodes = picture.value_nodes()
    dead = {k for k, g in nodes.items() if "dead" in picture.text(g)}
    assert dead == {ids["z"], ids["x"]}
    for key, node in nodes.items():
        dashed = picture.outline(node).get("stroke-dasharray") is not None
        assert dashed == (key in dead)
    # the edge out of the dead z carries exactly 0: thin, grey, dashed
    width, colour, dashed = picture.stroke(picture.edges[f"edge{ids['z'][4:]}_{ids['a'][4:]}"])
    assert (width, colour.lower(), dashed) == (style.THINNEST, style.ZERO.lower(), True)


@needs_dot
def test_a_saturated_sigmoid_is_dead_relative_to_the_largest_gradient():
    # σ'(40) = σ(40)(1 - σ(40)) ≈ e^-40 ≈ 4e-18: below 1e-8 of the largest gradient (1)
    x = Value(40.0, "x")
    y = x.sigmoid()
    y.label = "y"
    y.backward()
    picture = Picture(draw_graph(y))
    ids = ids_by_label(y)
    assert "dead" in picture.text(picture.nodes[ids["x"]])
    assert "dead" not in picture.text(picture.nodes[ids["y"]])


@needs_dot
def test_infinite_gradient_is_exploding():
    x = Value(0.0, "x")
    y = x.sqrt()  # d sqrt(x)/dx is infinite at 0
    y.label = "y"
    y.backward()
    picture = Picture(draw_graph(y))
    ids = ids_by_label(y)
    assert "exploding" in picture.text(picture.nodes[ids["x"]])
    assert picture.stroke(picture.edges["edge0_1"])[1].lower() == style.EXPLODING.lower()


@needs_dot
def test_before_backward_nothing_is_judged():
    x = Value(-1.0, "x")
    y = x.relu()
    y.label = "y"
    picture = Picture(draw_graph(y))
    texts = " ".join(picture.text(g) for g in picture.value_nodes().values())
    assert "dead" not in texts and "exploding" not in texts
    assert "call backward() first" in picture.text(picture.nodes["legend"])


@needs_dot
def test_legend_explains_the_encodings_with_the_pictures_numbers():
    error, _ = exploding_graph()
    legend = Picture.text(Picture(draw_graph(error)).nodes["legend"])
    for words in ("gradient > 0", "gradient < 0", "thickest", "dead", "exploding: |grad| > 10"):
        assert words in legend
    assert "thickest: |local grad × grad| = 24" in legend  # the largest flow, from x
    assert "legend" not in Picture(draw_graph(error, legend=False)).nodes


@needs_dot
def test_drawn_grads_can_come_from_a_record_and_the_graph_is_only_read():
    x = Value(2.0, label="x")
    y = (x * 3.0).tanh()
    y.label = "y"
    y.backward()
    before = {v: v.grad for v in (x, y)}
    picture = Picture(draw_graph(y, grads={x: -0.125, y: 0.0}, row_ids=True))
    ids = graph_ids(y)
    assert "grad -0.125" in picture.text(picture.nodes[ids[x]])
    assert re.search(r"\bgrad 0\b", picture.text(picture.nodes[ids[y]]))  # not y.grad, 1
    assert {v: v.grad for v in (x, y)} == before
    # each number row has an id of its own: a_node{i}_data, a_node{i}_grad
    rows = {g.get("id"): Picture.text(g) for g in picture.root.iter(f"{SVG}g") if g.get("id")}
    assert rows[f"a_{ids[x]}_grad"] == "grad -0.125"
    assert rows[f"a_{ids[x]}_data"] == "data 2"
    assert not any(key.startswith("a_") for key in Picture(draw_graph(y)).nodes)


def test_svg_ids_follow_the_topological_order():
    error, v = exploding_graph()
    ids = graph_ids(error)
    assert list(ids.values()) == [f"node{i}" for i in range(6)]
    assert ids[error] == "node5"  # the root comes last
    n = {value: int(key[4:]) for value, key in ids.items()}
    assert edge_ids(error)[v["x"], v["p"]] == f"edge{n[v['x']]}_{n[v['p']]}"
    source = draw_graph(error).source
    for key in [*ids.values(), *edge_ids(error).values()]:
        assert f"id={key}" in source


@needs_dot
def test_hide_constants_writes_them_into_the_operation():
    x = Value(3.0, "x")
    y = (x * 2.0) ** 2  # constants 2.0 and 2.0
    y.label = "y"
    y.backward()
    assert len(Picture(draw_graph(y)).value_nodes()) == 5
    picture = Picture(draw_graph(y, hide_constants=True))
    nodes = picture.value_nodes()
    assert len(nodes) == 3
    ids = graph_ids(y)
    product = y.inputs[0]
    # each box reads as a formula, the left-out input a dot: x × 2, then (x × 2)²; the
    # unlabelled product is named as the narrations call it, its op and its position
    number = "₀₁₂₃₄₅"[int(ids[product][4:])]
    assert picture.text(nodes[ids[product]]).startswith(f"*{number} = 2 × · ")
    assert picture.text(nodes[ids[y]]).startswith("y = ·² ")


@needs_dot
def test_folded_constants_read_as_the_notes_write_them():
    # the notes' error for output 0: e0 = t0 − a (t0 = 0.01), E0 = ½ e0², a loss of σ(z)
    a = Value(0.75, "L1.n0.a")
    e = 0.01 - a
    e.label = "e0"
    square = e**2
    square.label = "e0^2"
    share = 0.5 * square
    share.label = "E0"
    quotient = a / 4.0
    difference = quotient - 1.0
    scaled = difference.tanh() * -2.0
    root = share + scaled
    root.backward()
    picture = Picture(draw_graph(root, hide_constants=True))
    texts = {key: picture.text(g) for key, g in picture.value_nodes().items()}
    ids = graph_ids(root)
    assert texts[ids[e]].startswith("e0 = 0.01 − · ")
    assert texts[ids[square]].startswith("e0^2 = ·² ")
    assert texts[ids[share]].startswith("E0 = 0.5 × · ")  # 0.5 * e²: the factor first
    assert " = · / 4 " in texts[ids[quotient]] and " = · − 1 " in texts[ids[difference]]
    assert " = (-2) × · " in texts[ids[scaled]]  # a negative number in parentheses
    assert not any("(·" in text or "·)" in text for text in texts.values())  # no f(·, 2)


def test_options_reach_the_dot_source():
    error, _ = exploding_graph()
    assert "rankdir=TB" in draw_graph(error, rankdir="TB").source
    assert "data 2.00" in draw_graph(error, number_format=".2f").source
    labelled = draw_graph(error, edge_labels=True).source
    assert "label=-24" in labelled
    assert "label=-24" not in draw_graph(error, edge_labels=False).source


@needs_dot
def test_collapsed_mlp_is_one_node_per_weighted_sum_and_activation():
    model = MLP(2, [16, 16, 1], seed=0)
    error = (model([0.5, -0.3]) - 1.0) ** 2
    error.backward()
    picture = Picture(draw_graph(error, collapse_neurons=True))
    nodes = picture.value_nodes()
    # 2 inputs, 16 z and 16 a per hidden layer, the output z, then "-" and "**"
    assert len(nodes) == 2 + 2 * 32 + 1 + 2
    texts = [picture.text(g) for g in nodes.values()]
    assert sum("weighted_sum" in t for t in texts) == 33
    assert sum("17 params, grad norm" in t for t in texts) == 17  # 16 weights + bias
    assert sum("3 params, grad norm" in t for t in texts) == 16
    assert not any(".w" in t for t in texts)  # no weight leaves


@needs_dot
def test_node_limit_keeps_the_nearest_nodes_and_says_how_many_are_left_out():
    y = x = Value(1.0, "x")
    for _ in range(49):
        y = y * 1.01
    y.label = "y"
    y.backward()
    picture = Picture(draw_graph(y, hide_constants=True, max_nodes=10))
    nodes = picture.value_nodes()
    assert len(nodes) == 10
    order = graph_ids(y)
    assert order[y] in nodes and order[x] not in nodes
    assert "40 more nodes not drawn" in picture.text(picture.nodes["left_out"])
    assert sum("… 1 input not drawn" in picture.text(g) for g in nodes.values()) == 1


def test_bad_arguments_raise_clear_errors_and_change_nothing():
    error, values = exploding_graph()
    before = [(v.data, v.grad) for v in graph_ids(error)]
    with pytest.raises(TypeError, match=r"draw_graph: root must be a Value, got int 3"):
        draw_graph(3)
    with pytest.raises(ValueError, match=r"draw_graph: rankdir .* got 'XY'"):
        draw_graph(error, rankdir="XY")
    with pytest.raises(ValueError, match=r"draw_graph: max_nodes .* got 0"):
        draw_graph(error, max_nodes=0)
    with pytest.raises(ValueError, match=r"draw_graph: number_format .* got '%q'"):
        draw_graph(error, number_format="%q")
    with pytest.raises(ValueError, match=r"draw_graph: explode_threshold must be > 0, got -1"):
        draw_graph(error, explode_threshold=-1)
    with pytest.raises(TypeError, match=r"draw_graph: dead_threshold must be a number"):
        draw_graph(error, dead_threshold="tiny")
    with pytest.raises(TypeError, match=r"draw_graph: grads must be a mapping .* got list"):
        draw_graph(error, grads=[1.0])
    with pytest.raises(TypeError, match=r"draw_graph: row_ids must be True or False, got str 'y'"):
        draw_graph(error, row_ids="y")
    draw_graph(error, collapse_neurons=True, hide_constants=True)
    assert [(v.data, v.grad) for v in graph_ids(error)] == before


@needs_dot
def test_jupyter_gets_an_svg():
    error, _ = exploding_graph()
    bundle = draw_graph(error)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


# --- network diagram ------------------------------------------------------------------------


def sigmoid_chain(w0: float = 0.5, w1: float = 0.2) -> MLP:
    """x = 1 -> sigmoid neuron (w0, b 0) -> linear neuron (w1, b 0); E = (out - 1)²."""
    model = MLP(1, [1, 1], activation="sigmoid", seed=0)
    model.layers[0].neurons[0].w[0].data = w0
    model.layers[1].neurons[0].w[0].data = w1
    error = (model([1.0]) - 1.0) ** 2
    error.backward()
    return model


def by_hand(w0: float = 0.5, w1: float = 0.2) -> dict[str, float]:
    a0 = 1.0 / (1.0 + math.exp(-w0))  # σ(0.5) = 0.6225
    z1 = w1 * a0  # 0.1245
    dz1 = 2.0 * (z1 - 1.0)  # ∂E/∂z1 = -1.751
    dz0 = dz1 * w1 * a0 * (1.0 - a0)  # ∂E/∂z0 = ∂E/∂z1 · w1 · σ'(z0) = -0.0823
    return {"a0": a0, "z1": z1, "dz1": dz1, "dz0": dz0, "dw1": dz1 * a0, "dw0": dz0 * 1.0}


@needs_dot
def test_network_neurons_show_activation_and_blame():
    picture = Picture(draw_network(sigmoid_chain()))
    hand = by_hand()
    first, second = picture.text(picture.nodes["L0.n0"]), picture.text(picture.nodes["L1.n0"])
    assert f"a {hand['a0']:.3g}" in first and f"∂E/∂z {hand['dz0']:.3g}" in first
    assert f"z {hand['z1']:.3g}" in second and f"∂E/∂z {hand['dz1']:.3g}" in second
    assert "x0 1" in picture.text(picture.nodes["x0"])
    # each layer's title: activation and gradient norm (one weight each: |∂E/∂w|)
    assert "L0 · sigmoid · 1 neuron" in picture.text(picture.nodes["layer0"])
    assert f"gradient norm {abs(hand['dw0']):.3g}" in picture.text(picture.nodes["layer0"])
    assert f"gradient norm {abs(hand['dw1']):.3g}" in picture.text(picture.nodes["layer1"])


@needs_dot
def test_layer_gradient_norm_is_the_root_of_the_sum_of_squares():
    model = MLP(2, [1], output_activation="linear", seed=0)
    model([3.0, 4.0]).backward()  # E = z = w0·3 + w1·4 + b: ∂E/∂w = (3, 4), norm 5
    picture = Picture(draw_network(model))
    assert "gradient norm 5" in picture.text(picture.nodes["layer0"])
    assert "x1 4" in picture.text(picture.nodes["x1"])


@needs_dot
def test_network_edges_by_weight_or_by_gradient():
    model = sigmoid_chain()  # |w0| 0.5 > |w1| 0.2, but |∂E/∂w0| 0.082 < |∂E/∂w1| 1.09
    by_weight = Picture(draw_network(model))
    w0, w1 = (
        by_weight.stroke(by_weight.edges["L0.n0.w0"]),
        by_weight.stroke(by_weight.edges["L1.n0.w0"]),
    )
    assert w0[0] > w1[0]
    assert w0[1].lower() == w1[1].lower() == style.POSITIVE.lower()  # both weights > 0
    by_grad = Picture(draw_network(model, edge_thickness="grad"))
    g0, g1 = by_grad.stroke(by_grad.edges["L0.n0.w0"]), by_grad.stroke(by_grad.edges["L1.n0.w0"])
    assert g0[0] < g1[0]
    assert g0[1].lower() == g1[1].lower() == style.NEGATIVE.lower()  # both gradients < 0


@needs_dot
def test_dead_relu_neuron_is_marked_and_the_live_one_is_not():
    model = MLP(1, [2, 1], activation="relu", seed=0)
    first, second = model.layers[0].neurons
    first.w[0].data, second.w[0].data = -1.0, 1.0  # x = 1: z = -1 (off) and z = 1 (on)
    model.layers[1].neurons[0].w[0].data = model.layers[1].neurons[0].w[1].data = 1.0
    (model([1.0]) - 3.0).backward()
    picture = Picture(draw_network(model))

    def greyed(name: str) -> bool:
        outline = picture.outline(picture.nodes[name])
        return (
            outline.get("stroke-dasharray") is not None
            and outline.get("fill").lower() == style.DEAD_FILL.lower()
        )

    assert greyed("L0.n0") and not greyed("L0.n1") and not greyed("L1.n0")
    assert "dead" not in picture.text(picture.nodes["L0.n0"])  # the legend says it, once
    assert "inactive here: relu z ≤ 0" in picture.text(picture.nodes["legend"])
    assert not any(
        "exploding" in picture.text(g) for g in picture.nodes.values() if g.get("id") != "legend"
    )


@needs_dot
def test_exploding_neuron_is_marked():
    model = sigmoid_chain(w0=0.5, w1=40.0)  # ∂E/∂z1 = 2 (40 σ(0.5) - 1) ≈ 47.8 > 10
    picture = Picture(draw_network(model))
    assert "exploding" in picture.text(picture.nodes["L1.n0"])


@needs_dot
def test_vanishing_gradient_across_twenty_sigmoid_layers_shows_in_one_look():
    model = MLP(2, [4] * 19 + [1], activation="sigmoid", output_activation="sigmoid", seed=0)
    ((model([0.5, -0.3]) - 1.0) ** 2).backward()
    picture = Picture(draw_network(model, edge_thickness="grad"))

    def norm(layer: int) -> float:
        return float(
            re.search(r"gradient norm (\S+)", picture.text(picture.nodes[f"layer{layer}"]))[1]
        )

    def dark_blocks(layer: int) -> int:
        cells = picture.nodes[f"layer{layer}"].iter(f"{SVG}polygon")
        return sum(1 for cell in cells if cell.get("fill") == "#333333")

    assert norm(0) < norm(19) * 1e-6
    assert dark_blocks(19) == 10 and dark_blocks(0) < dark_blocks(10) < 10
    # tiny ∂E/∂z but a ≈ 0.5, the sigmoid's steepest point: vanishing, not dead, and no
    # mark repeated in every box
    texts = [picture.text(picture.nodes[f"L{l}.n0"]) for l in range(20)]  # noqa: E741
    assert not any("dead" in text for text in texts)
    fills = {picture.outline(picture.nodes[f"L{l}.n0"]).get("fill") for l in range(20)}  # noqa: E741
    assert style.DEAD_FILL.lower() not in {fill.lower() for fill in fills}
    first = picture.stroke(picture.edges["L0.n0.w0"])[0]
    last = picture.stroke(picture.edges["L19.n0.w0"])[0]
    assert first < last


def test_network_before_any_call_shows_names_only():
    source = draw_network(MLP(2, [3, 1], seed=0)).source
    assert "L0.n2" in source and "∂E/∂z" not in source and "dead" not in source.split("legend")[0]


def test_names_only_draws_a_called_model_as_never_called_and_writes_nothing(monkeypatch):
    called, fresh = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0)
    called([0.5, -1.0]).backward()
    names_only = draw_network(called, names_only=True).source
    assert names_only == draw_network(fresh, names_only=True).source and "∂E/∂" not in names_only
    assert "∂E/∂z" in draw_network(called).source  # numbers of the latest call by default
    writes = []  # the training page's diagram used to blank z, a and grads, then restore them

    def trap(self, name, value):
        writes.append(name)
        object.__setattr__(self, name, value)

    monkeypatch.setattr(Neuron, "__setattr__", trap)
    monkeypatch.setattr(Value, "__setattr__", trap)
    draw_network(called, names_only=True)
    if shutil.which("dot"):
        _network_picture(called)
    assert writes == []


def test_network_bad_arguments():
    with pytest.raises(TypeError, match=r"draw_network: model must be an MLP, got str"):
        draw_network("model")
    with pytest.raises(ValueError, match=r"draw_network: edge_thickness .* got 'size'"):
        draw_network(MLP(1, [1], seed=0), edge_thickness="size")


# --- rendering ------------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize(("format", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_render_writes_the_picture(tmp_path, format, magic):
    error, _ = exploding_graph()
    written = render(draw_graph(error), tmp_path / "sub" / "graph.txt", format)
    assert written == tmp_path / "sub" / f"graph.{format}"
    assert written.read_bytes().startswith(magic)


def test_render_without_dot_writes_the_source_and_says_how_to_install(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no dot anywhere
    assert not graphviz_available()
    error, _ = exploding_graph()
    digraph = draw_graph(error)
    written = render(digraph, tmp_path / "graph", "png")
    assert written == tmp_path / "graph.dot"
    assert written.read_text(encoding="utf-8") == digraph.source
    assert not (tmp_path / "graph.png").exists()
    message = capsys.readouterr().err
    assert "`dot` program was not found" in message and "apt-get install graphviz" in message
    assert "Traceback" not in message


def test_render_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"render: format must be one of svg, png, pdf, got 'gif'"):
        render(graphviz.Digraph(), tmp_path / "x", "gif")
    with pytest.raises(TypeError, match=r"^render: digraph must be a graphviz Digraph .* got str"):
        render("digraph {}", tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


# --- big graphs and the demo network ----------------------------------------------------


@needs_dot
def test_a_chain_of_a_thousand_nodes_gets_an_overview_dot_can_draw(tmp_path):
    y = Value(0.5, label="x")
    for i in range(1000):
        y = (y * 0.99).tanh() if i % 2 else y + 0.001
    y.label = "E"
    y.backward()
    dot = draw_graph(y)  # max_nodes=400 by default: 400 boxes in a row used to be 40,000 px
    assert "id=overview" in dot.source and "more nodes here" in dot.source
    png = render(dot, tmp_path / "chain", format="png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert png.startswith(b"\x89PNG") and width < 8000 and height < 8000


def test_a_shallow_graph_is_drawn_whole():
    model = MLP(2, [16, 16, 1], seed=0)
    error = (model([0.5, -0.3]) - 1.0) ** 2
    assert "overview" not in draw_graph(error, collapse_neurons=True).source


@needs_dot
def test_the_demo_network_reads_at_sixteen_neurons():
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    model([1.0, -0.1]).backward()
    source = draw_network(model).source
    assert "splines=line" in source and "arrowhead=none" in source  # straight, no arrowheads
    assert float(re.search(r"ranksep=([\d.]+)", source)[1]) >= 2.0  # room between layers
    faint = re.findall(r'color="#[0-9A-Fa-f]{6}40"', source)
    assert 0 < len(faint) < 16 * 16 + 2 * 16 + 16  # the strongest edges stay opaque
    small = draw_network(MLP(2, [2, 1], seed=0)).source
    assert "arrowhead=normal" in small
    assert re.search(r"legend .*fontsize=7", small) and re.search(r"legend .*fontsize=9", source)
    # a small picture gets a compact legend: not larger than the network it explains
    assert "thinnest" in source and "thinnest" not in small


def test_network_inputs_show_the_latest_call_values_not_the_weights():
    model = MLP(3, [2, 1], seed=0)
    model([0.25, -0.75, 0.125])
    source = draw_network(model).source
    for i, x in enumerate([0.25, -0.75, 0.125]):
        (box,) = [line for line in source.splitlines() if line.strip().startswith(f"x{i} [")]
        assert f"<B>x{i}</B>" in box and f"<TD>{x:.4g}</TD>" in box, box


# --- legends, big networks and big graphs ----------------------------------------------------


def x_extent(group: ElementTree.Element) -> tuple[float, float]:
    """(leftmost, rightmost) x of the lines and shapes an SVG group draws (not its text)."""
    xs = []
    for element in group.iter():
        if element.tag == f"{SVG}path":
            numbers = re.findall(r"-?\d+(?:\.\d+)?", element.get("d"))
        elif element.tag == f"{SVG}polygon":
            numbers = re.findall(r"-?\d+(?:\.\d+)?", element.get("points"))
        else:
            continue
        xs += [float(x) for x in numbers[0::2]]  # x,y pairs
    return min(xs), max(xs)


def assert_the_legend_stands_alone_on_the_left(picture: Picture) -> None:
    _, legend_right = x_extent(picture.nodes["legend"])
    for key, group in [*picture.nodes.items(), *picture.edges.items()]:
        if key != "legend" and list(group.iter(f"{SVG}path")) + list(group.iter(f"{SVG}polygon")):
            assert x_extent(group)[0] > legend_right, f"{key} reaches into the legend"


@needs_dot
def test_no_edge_of_the_network_runs_over_its_legend():
    # the demo's MLP(2, [16, 16, 1]): the fans out of x0 and x1 used to cross the legend,
    # which stood in the inputs' column and was wider than it
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    model([1.0, -0.1]).backward()
    assert_the_legend_stands_alone_on_the_left(Picture(draw_network(model)))
    small = MLP(2, [3, 1], seed=0)
    small([0.5, -1.0]).backward()
    assert_the_legend_stands_alone_on_the_left(Picture(draw_network(small)))


@needs_dot
def test_no_edge_of_the_graph_runs_over_its_legend():
    model = MLP(2, [16, 16, 1], seed=0)
    error = (model([0.5, -0.3]) - 1.0) ** 2
    error.backward()
    assert_the_legend_stands_alone_on_the_left(Picture(draw_graph(error)))
    assert_the_legend_stands_alone_on_the_left(Picture(draw_graph(exploding_graph()[0])))


@needs_dot
def test_a_big_network_draws_only_its_strongest_weights_and_says_so():
    model = MLP(2, [16, 16, 1], activation="tanh", seed=0)
    model([0.5, -0.3]).backward()
    picture = Picture(draw_network(model))  # max_edges=64 by default
    drawn = set(picture.edges)
    hidden_layer = model.layers[1]
    into = {n.name: [w for w in n.w if w.label in drawn] for n in hidden_layer.neurons}
    # 2 x 16 + 16 x 16 + 16 x 1 = 304 weights; the 256 of L1 are cut to 64, the others stay
    assert len(drawn) == 32 + 64 + 16
    assert all(w.label in drawn for n in model.layers[0].neurons + model.layers[2].neurons
               for w in n.w)  # fmt: skip
    assert sum(len(ws) for ws in into.values()) == 64
    for neuron in hidden_layer.neurons:  # each neuron keeps at least its strongest input
        assert max(neuron.w, key=lambda w: abs(w.data)).label in drawn
    # the others drawn are the strongest: none left out is stronger than the weakest of them
    strongest_inputs = {max(n.w, key=lambda w: abs(w.data)) for n in hidden_layer.neurons}
    others = [w for n in hidden_layer.neurons for w in n.w if w not in strongest_inputs]
    kept = [abs(w.data) for w in others if w.label in drawn]
    left_out = [abs(w.data) for w in others if w.label not in drawn]
    assert len(kept) == 64 - 16 and min(kept) >= max(left_out)
    text = " ".join(picture.text(g) for g in picture.root.iter(f"{SVG}g"))
    assert "showing the 112 strongest of 304 weights (by |w|)" in text
    assert "64 strongest of 256 weights drawn" in picture.text(picture.nodes["layer1"])
    assert "strongest" not in picture.text(picture.nodes["layer0"])
    # by gradient: the strongest |∂E/∂w| instead
    by_grad = set(Picture(draw_network(model, edge_thickness="grad")).edges)
    top = sorted((w for n in hidden_layer.neurons for w in n.w), key=lambda w: -abs(w.grad))
    assert {w.label for w in top[:16]} <= by_grad
    # everything on request; a small network is drawn whole
    assert len(Picture(draw_network(model, max_edges=None)).edges) == 304
    small = draw_network(MLP(2, [4, 4, 1], seed=0))
    assert "strongest of" not in small.source and len(Picture(small).edges) == 8 + 16 + 4


def test_max_edges_is_checked():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match=r"draw_network: max_edges must be >= 1, got 0"):
        draw_network(model, max_edges=0)
    with pytest.raises(TypeError, match=r"draw_network: max_edges must be an int, got float"):
        draw_network(model, max_edges=10.0)


def test_a_big_graph_of_neurons_is_collapsed_by_default_as_its_page_is():
    model = MLP(2, [16, 16, 1], seed=0)
    error = (model([0.5, -0.3]) - 1.0) ** 2
    assert len(graph_ids(error)) > 60
    collapsed = draw_graph(error, collapse_neurons=True).source
    assert draw_graph(error).source == collapsed
    assert draw_graph(error, collapse_neurons=False).source != collapsed
    # 31 nodes: the classic 2-2-2 example is drawn whole, weights and all
    small = MLP(2, [2, 2], seed=0)
    small_error = (small([0.05, 0.1])[0] - 0.01) ** 2
    assert draw_graph(small_error).source == draw_graph(small_error, collapse_neurons=False).source
    # no neurons: a long chain of plain operations is never collapsed
    y = Value(0.5, "x")
    for _ in range(80):
        y = y * 1.01
    assert draw_graph(y).source == draw_graph(y, collapse_neurons=False).source
    with pytest.raises(TypeError, match=r"draw_graph: collapse_neurons must be True, False or"):
        draw_graph(error, collapse_neurons="yes")


@needs_dot
def test_unlabelled_boxes_are_named_as_the_narrations_name_them():
    a, b, c = Value(2.0, "a"), Value(3.0, "b"), Value(4.0, "c")
    left, right = a * b, b * c
    error = left + right
    error.backward()
    names, ids = node_names(error), graph_ids(error)
    picture = Picture(draw_graph(error))
    first_rows = {key: picture.text(g).split(" data ")[0] for key, g in picture.nodes.items()}
    assert first_rows[ids[left]] == names[left] and first_rows[ids[right]] == names[right]
    assert names[left] != names[right] and names[left].startswith("*")
    assert first_rows[ids[error]] == "E = +"  # the root is E, as in every narration
