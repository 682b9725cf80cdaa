"""The HTML pages without a browser: what they record, that they are self-contained, the
errors, the size for a 16-16 network, the page without Graphviz and the training record.

What the page shows in a real browser is tested in test_html_browser.py.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from helpers import neuron_graph

from autograd_lite.cli import main
from autograd_lite.nn import MLP, data
from autograd_lite.nn.losses import mean_squared_error
from autograd_lite.nn.optim import SGD
from autograd_lite.stepping import backprop_example
from autograd_lite.visualize import export_html, export_training_html, graph_ids, graphviz_available

needs_dot = pytest.mark.skipif(not graphviz_available(), reason="Graphviz's dot is not installed")


def page_data(path) -> dict:
    text = path.read_text(encoding="utf-8")
    blob = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S)
    return json.loads(blob.group(1))


def final_grads(record: dict) -> dict[str, str]:
    """Replays the recorded steps the way the page does: name -> grad text at the end."""
    grads = {node["name"]: record["zero"] for node in record["nodes"]}
    grads[record["nodes"][record["seed"]["node"]]["name"]] = record["seed"]["grad"]
    for step in record["backward"]:
        grads[record["nodes"][step["input"]]["name"]] = step["grad"]
    return grads


def test_recorded_steps_end_at_the_hand_derived_gradients(tmp_path):
    g = neuron_graph()
    record = page_data(export_html(g["E"], tmp_path / "neuron"))
    a = math.tanh(-1.5 * 0.5 + 0.25)
    da = 2 * a  # dE/da
    dz = da * (1 - a * a)  # tanh'(z) = 1 - a^2
    hand = {"x": dz * -1.5 + 1.0, "w": dz * 0.5, "b": dz, "z": dz, "a": da, "E": 1.0}
    shown = final_grads(record)
    for name, value in hand.items():
        assert shown[name] == format(value, ".4g"), name
    # one forward step per computed node, one backward step per (node, input) edge
    assert len(record["forward"]) == 5
    assert len(record["backward"]) == 2 + 2 + 1 + 2 + 2  # E=+, a*a, tanh, +, w*x
    assert [step["text"].split(" = ")[0] for step in record["forward"]][-1] == "E"


def test_x_grad_accumulates_over_its_two_paths(tmp_path):
    g = neuron_graph()
    record = page_data(export_html(g["E"], tmp_path / "neuron"))
    x = next(i for i, node in enumerate(record["nodes"]) if node["name"] == "x")
    into_x = [step["grad"] for step in record["backward"] if step["input"] == x]
    assert into_x[0] == "1"  # first from E = (a*a) + x
    a = math.tanh(-0.5)
    assert into_x[1] == format(1 + 2 * a * (1 - a * a) * -1.5, ".4g")


def test_page_is_one_file_with_nothing_to_fetch(tmp_path):
    page = export_html(neuron_graph()["E"], tmp_path / "neuron.html")
    text = page.read_text(encoding="utf-8")
    assert page.suffix == ".html" and text.startswith("<!DOCTYPE html>")
    assert "{{" not in text  # every placeholder filled
    assert "function graphPage" in text and "--receiving" in text  # script and style inline
    # no src= at all, and every href is a data: URL
    assert not re.search(r"\ssrc\s*=", text)
    assert re.findall(r'href="([^"]*)"', text) == ["data:,"]


def test_export_only_reads_the_graph_so_no_hook_runs(tmp_path):
    g = neuron_graph()
    calls = []
    for v in g.values():
        v.register_hook(lambda node: calls.append(node.label))
    record = page_data(export_html(g["E"], tmp_path / "neuron"))
    assert calls == [] and all(v.grad == 0.0 for v in g.values())
    a = math.tanh(-0.5)
    dx = 1 + 2 * a * (1 - a * a) * -1.5  # recorded all the same: the chain rule, by hand
    assert final_grads(record)["x"] == format(dx, ".4g")


def test_export_leaves_every_gradient_as_it_was(tmp_path):
    g = neuron_graph()
    g["E"].backward()
    before = {name: v.grad for name, v in g.items()}
    g["x"].grad = 5.0  # an accumulated leaf gradient stays too
    before["x"] = 5.0
    record = page_data(export_html(g["E"], tmp_path / "neuron"))
    assert {name: v.grad for name, v in g.items()} == before
    # and the page starts from zero: x's first recorded grad is its first contribution, 1
    assert final_grads(record)["x"] != "5"


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ((3.0, "page.html"), TypeError, "export_html: root must be a Value, got float 3.0"),
        ((None, 42), TypeError, "export_html: path must be a str or a Path"),
        ((None, "p", {"seed": "1"}), TypeError, "export_html: seed must be a number, got str '1'"),
        ((None, "p", {"seed": float("nan")}), ValueError, "export_html: seed must be finite"),
        ((None, "p", {"max_steps": True}), TypeError, "export_html: max_steps must be an int"),
        ((None, "p", {"number_format": "q"}), ValueError, "number_format"),
        ((None, "p", {"max_steps": 3}), ValueError, "has 9 steps, more than max_steps=3"),
        ((None, "p", {"title": 7}), TypeError, "export_html: title must be a str"),
    ],
)
def test_bad_arguments_raise_and_change_nothing(tmp_path, arguments, error, words):
    g = neuron_graph()
    g["E"].backward()
    before = {name: (v.data, v.grad) for name, v in g.items()}
    root, path, *options = arguments
    path = tmp_path / path if isinstance(path, str) else path  # never beside the tests
    with pytest.raises(error, match=re.escape(words)):
        export_html(g["E"] if root is None else root, path, **(options[0] if options else {}))
    assert {name: (v.data, v.grad) for name, v in g.items()} == before
    assert not list(tmp_path.iterdir())


@needs_dot
def test_every_drawn_node_shows_its_grad_and_data_where_the_page_finds_them(tmp_path):
    model = MLP(2, [3, 1], seed=1)
    error = (model([0.5, -1.0]) - 1.0) ** 2
    text = export_html(error, tmp_path / "small", collapse_neurons=False).read_text()
    drawn = len(re.findall(r'<g id="node\d+" class="node"', text))
    assert drawn == len(re.findall(r'class="grad"', text)) == len(re.findall(r'class="data"', text))
    assert 'href="#"' not in text  # the row ids come with links in the SVG; none is left
    # each grad text sits in its own node's row, centred, after the words "grad "
    rows = re.findall(r'<g id="a_(node\d+)_grad"><text text-anchor="middle"[^>]*class="grad" '
                      r'data-prefix="grad "', text)  # fmt: skip
    assert len(rows) == drawn and len(set(rows)) == drawn
    assert drawn == len(graph_ids(error)) - 2  # nothing collapsed; the constants 1, 2 hidden


@needs_dot
def test_constants_and_targets_are_left_out_unless_shown(tmp_path):
    # the same rule as backward_steps(): the 2-2-2 example's 38 steps, 6 into t_k, ½ and 2
    error = backprop_example().error
    hidden = page_data(export_html(error, tmp_path / "hidden"))
    shown = page_data(export_html(error, tmp_path / "shown", show_constants=True))
    assert (len(hidden["backward"]), len(shown["backward"])) == (32, 38)
    expected = [str(step) for step in backprop_example().error.backward_steps()]
    assert [step["text"] for step in hidden["backward"]] == expected
    drawn = {node["name"] for node in hidden["nodes"] if node["id"]}
    assert not drawn & {"t0", "t1", "0.5", "2"}
    assert {"t0", "t1", "0.5", "2"} <= {node["name"] for node in shown["nodes"] if node["id"]}


@needs_dot
def test_a_16_16_network_gives_a_collapsed_page_under_2_mb(tmp_path):
    model = MLP(2, [16, 16, 1], seed=0)
    page = export_html(model([0.5, -1.0]), tmp_path / "big")
    assert page.stat().st_size < 2_000_000
    record = page_data(page)
    drawn = [node for node in record["nodes"] if node["id"]]
    assert len(drawn) == 2 + 33 + 32  # inputs, weighted sums, activations: weights collapsed
    assert len(record["backward"]) == 16 * 5 + 16 * 33 + 33 + 32
    text = page.read_text()
    assert len(re.findall(r'class="params"', text)) == 33  # each sum box shows ‖grad‖ of w, b
    steps_into_weights = [step for step in record["backward"] if "params" in step]
    assert len(steps_into_weights) == 16 * 3 + 16 * 17 + 17


@needs_dot
def test_each_box_is_drawn_as_wide_as_its_widest_recorded_number(tmp_path):
    model = MLP(2, [4, 4, 1], seed=0)
    page = export_html(model([0.5, -1.0]), tmp_path / "b", collapse_neurons=True)
    text, record = page.read_text(), page_data(page)
    widest: dict[tuple[str, int], str] = {}
    for step in record["backward"]:
        for field, node in (("grad", step["input"]), ("params", step["node"])):
            if field in step and len(step[field]) > len(widest.get((field, node), "")):
                widest[field, node] = step[field]
    drawn = {
        (field, int(node)): number
        for node, field, number in re.findall(
            r'<g id="a_node(\d+)_(grad|params)"><text[^>]*>[^<]* ([^< ]+)</text>', text
        )
    }
    assert sum(field == "params" for field, _ in drawn) == 4 + 4 + 1
    for key, number in drawn.items():
        if key in widest:  # the root is drawn with 0 and the page seeds it
            assert number == widest[key], key


def test_without_graphviz_the_page_lists_the_nodes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot to be found
    page = export_html(neuron_graph()["E"], tmp_path / "plain")
    text = page.read_text()
    assert '<table class="node-table">' in text and "<svg" not in text
    assert len(re.findall(r'<tr class="node" id="node\d+">', text)) == 8
    assert "Graphviz" in capsys.readouterr().err


def test_step_command_writes_the_page_of_the_classic_example(tmp_path, capsys):
    assert main(["step", "--html", str(tmp_path / "classic")]) == 0
    page = tmp_path / "classic"  # the command writes exactly the path it is given
    assert f"wrote {page}" in capsys.readouterr().out and not page.with_suffix(".html").exists()
    record = page_data(page)
    shown = final_grads(record)
    assert shown["L1.n0.w0"] == format(0.082167041, ".4g")  # ∂E/∂w5 of the walk-through
    assert shown["L0.n0.w0"] == format(0.000438568, ".4g")  # ∂E/∂w1


def sgd_by_hand(epochs: int, lr: float) -> list[tuple[list[float], list[float], float]]:
    """xor, MLP(2, [3, 1], seed=0), mean squared error, w = w - lr * dE/dw, full batch."""
    points, targets = data.xor()
    model = MLP(2, [3, 1], seed=0)
    states = []
    for _ in range(epochs):
        error = mean_squared_error([model(x) for x in points], targets)
        for p in model.parameters():
            p.grad = 0.0
        error.backward()
        states.append(
            ([p.data for p in model.parameters()], [p.grad for p in model.parameters()], error.data)
        )
        for p in model.parameters():
            p.data -= lr * p.grad
    return states


def test_training_page_records_every_epoch_of_gradient_descent(tmp_path):
    points, targets = data.xor()
    model = MLP(2, [3, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.3)
    page = export_training_html(
        model, points, targets, tmp_path / "xor", epochs=6, optimizer=optimizer
    )
    record = page_data(page)
    assert len(record["epochs"]) == 7 and record["epochs"][-1]["grads"] is None
    for epoch, (weights, grads, error) in zip(record["epochs"], sgd_by_hand(6, 0.3)):
        assert [w[0] for w in epoch["weights"]] == [format(w, ".3g") for w in weights]
        assert [g[0] for g in epoch["grads"]] == [format(g, ".3g") for g in grads]
        assert epoch["loss"] == format(error, ".3g")
    # the model is trained in place: it holds the last epoch's weights
    assert [w[0] for w in record["epochs"][-1]["weights"]] == [
        format(p.data, ".3g") for p in model.parameters()
    ]
    assert [p["label"] for p in record["parameters"]][:3] == ["L0.n0.w0", "L0.n0.w1", "L0.n0.b"]
    assert all(0 <= w[1] <= 100 for epoch in record["epochs"] for w in epoch["weights"])


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"model": "mlp"}, TypeError, "export_training_html: model must be an MLP"),
        ({"epochs": 0}, ValueError, "export_training_html: epochs must be >= 1, got 0"),
        ({"epochs": 2.0}, TypeError, "export_training_html: epochs must be an int, got float"),
        ({"epochs": 10**9}, ValueError, "export_training_html: epochs must be <="),
        ({"loss": "l1"}, ValueError, "export_training_html: unknown loss 'l1'"),
        ({"targets": [0, 1]}, ValueError, "needs as many inputs as targets"),
    ],
)
def test_training_page_bad_arguments(tmp_path, change, error, words):
    points, targets = data.xor()
    model = MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    arguments = {"model": model, "inputs": points, "targets": targets, "epochs": 3, **change}
    with pytest.raises(error, match=re.escape(words)):
        export_training_html(path=tmp_path / "bad", **arguments)
    assert [p.data for p in model.parameters()] == before
