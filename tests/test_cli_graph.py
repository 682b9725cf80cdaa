"""`autograd-lite graph`: the four example pictures show what they say, with the numbers of a
hand-derived backward pass; without `dot` the DOT sources; bad options exit 2."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from autograd_lite.cli import main
from autograd_lite.names import neuron_name
from autograd_lite.visualize import graphviz_available

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(not graphviz_available(), reason="Graphviz's dot is not installed")


def boxes(path) -> dict[str, list[str]]:
    """Each node of an SVG picture: its id -> the texts of its box, top to bottom."""
    root = ElementTree.parse(path).getroot()
    return {
        g.get("id"): [t.text.strip() for t in g.iter(f"{SVG}text") if t.text and t.text.strip()]
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "node"
    }


def neuron_by_hand() -> dict[str, tuple[float, float]]:
    """label -> (data, ∂E/∂label) of E = ½ (0.01 − σ(w1 x1 + w2 x2 + b))², by the chain rule."""
    x1, x2, w1, w2, b, t = 0.05, 0.10, 0.15, 0.20, 0.35, 0.01
    z = w1 * x1 + w2 * x2 + b
    a = 1 / (1 + math.exp(-z))
    de_da = a - t  # ∂E/∂a of ½ (t − a)²
    de_dz = de_da * a * (1 - a)  # σ′(z) = a (1 − a)
    return {
        "x1": (x1, de_dz * w1), "x2": (x2, de_dz * w2), "w1": (w1, de_dz * x1),
        "w2": (w2, de_dz * x2), "b": (b, de_dz), "z": (z, de_dz), "a": (a, de_da),
        "E": (0.5 * (t - a) ** 2, 1.0),
    }  # fmt: skip


@needs_dot
def test_graph_command_writes_the_example_pictures(tmp_path, capsys):
    assert main(["graph", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["deep-sigmoid.svg", "mlp-graph.svg", "network.svg", "neuron.svg"]
    out = capsys.readouterr().out
    assert "trained MLP" in out and str(tmp_path / "network.svg") in out
    error_before, error_after = map(float, re.search(r"error (\S+) -> (\S+)", out).groups())
    assert error_after < error_before / 10  # the XOR model did learn

    # the neuron: every labelled node shows its value and the hand-derived gradient
    neuron = {texts[0]: texts for texts in boxes(tmp_path / "neuron.svg").values()}
    for label, (data, grad) in neuron_by_hand().items():
        assert f"data {data:.4g}" in neuron[label] and f"grad {grad:.4g}" in neuron[label], label
    assert "sigmoid" in neuron["a"]

    # the trained network: two inputs, 4 + 4 + 1 neurons, three layer titles
    network = boxes(tmp_path / "network.svg")
    neurons = {neuron_name(layer, j) for layer, n in enumerate([4, 4, 1]) for j in range(n)}
    assert neurons <= set(network) and not (set(network) & {"L0.n4", "L2.n1", "L3.n0"})
    assert {"x0", "x1", "layer0", "layer1", "layer2"} <= set(network)

    # the MLP(2, [16, 16, 1]) graph: one box per weighted sum, weights and biases folded in
    folded = [t for texts in boxes(tmp_path / "mlp-graph.svg").values() for t in texts
              if "params, grad norm" in t]  # fmt: skip
    assert len(folded) == 16 + 16 + 1
    assert sum(t.startswith("3 params") for t in folded) == 16  # 2 weights and a bias
    assert sum(t.startswith("17 params") for t in folded) == 17

    # the deep sigmoid network: 20 layers of neurons
    deep = boxes(tmp_path / "deep-sigmoid.svg")
    assert {f"layer{layer}" for layer in range(20)} <= set(deep) and "layer20" not in deep


def test_graph_command_without_dot_writes_dot_sources(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["graph", "--out", str(tmp_path / "pictures"), "--format", "png"]) == 0
    assert sorted(p.suffix for p in (tmp_path / "pictures").iterdir()) == [".dot"] * 4
    source = (tmp_path / "pictures" / "neuron.dot").read_text()
    assert source.startswith("digraph") and "w1" in source
    message = capsys.readouterr().err
    assert message.count("apt-get install graphviz") == 1  # said once, not per picture


def test_graph_command_bad_options_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["graph", "--format", "gif"])
    assert stop.value.code == 2
    assert "invalid choice: 'gif'" in capsys.readouterr().err
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder")
    with pytest.raises(SystemExit) as stop:
        main(["graph", "--out", str(a_file)])
    assert stop.value.code == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert a_file.read_text() == "not a folder"


def test_python_dash_m_runs_the_graph_command():
    done = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "graph", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "--format {svg,png}" in done.stdout
