"""The layer view: the four backprop equations evaluated on the recorded graph.

Every entry is checked against the engine's gradient after backward(), some against central
finite differences, and the classic 2-2-2 example against its hand-derived numbers.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from helpers import numeric_gradient

from autograd_lite import Value
from autograd_lite.cli import main
from autograd_lite.explanation import explain
from autograd_lite.layers import describe_layers, layer_view
from autograd_lite.nn import (
    ACTIVATIONS,
    MLP,
    half_sum_squared_error,
    l2_penalty,
    mean_squared_error,
    softmax_cross_entropy,
)
from autograd_lite.stepping import backprop_example


def _check_against_backward(model: MLP, loss: Value) -> None:
    view = layer_view(loss)  # before backward(): the view must not need it
    model.zero_grad()
    loss.backward()
    assert len(view.layers) == len(model.layers)
    for layer, gradients in zip(model.layers, view.layers):
        for j, neuron in enumerate(layer.neurons):
            assert gradients.bias_grads[j] == pytest.approx(neuron.b.grad, abs=1e-12, rel=1e-12)
            for i, w in enumerate(neuron.w):
                assert gradients.weight_grads[j][i] == pytest.approx(w.grad, abs=1e-12, rel=1e-12)
                assert gradients.weights[j][i] == w.data
    # δ of the last call equals the engine's ∂E/∂z of that call's z nodes
    for layer, gradients in zip(model.layers, view.layers):
        for j, neuron in enumerate(layer.neurons):
            assert gradients.samples[-1].delta[j] == pytest.approx(neuron.z.grad, abs=1e-12)
    assert view.largest_difference < 1e-12


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_entry_equals_the_engines_gradient(depth, activation):
    rng = random.Random(depth * 31 + len(activation))
    sizes = [rng.randint(1, 4) for _ in range(depth - 1)] + [3]
    model = MLP(3, sizes, activation=activation, output_activation=activation, seed=depth)
    inputs = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(2)]
    targets = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(2)]
    loss = mean_squared_error([model(x) for x in inputs], targets)
    _check_against_backward(model, loss)


def test_softmax_cross_entropy_on_logits():
    model = MLP(4, [5, 3], activation="relu", seed=3)
    loss = softmax_cross_entropy(
        [model([0.1, -0.2, 0.3, 0.9]), model([1.0, 0.5, -0.5, 0.0])], [2, 0]
    )
    _check_against_backward(model, loss)


def test_classic_example_by_hand():
    """The numbers every tutorial of the 2-2-2 network derives by hand."""
    view = layer_view(backprop_example().error)
    output, hidden = view.layers[1], view.layers[0]
    assert output.samples[0].delta[0] == pytest.approx(0.138498562, abs=1e-9)
    assert output.weight_grads[0][0] == pytest.approx(0.082167041, abs=1e-9)  # w5
    assert output.weight_grads[1][1] == pytest.approx(-0.022740242, abs=1e-8)  # w8
    assert hidden.weight_grads[0][0] == pytest.approx(0.000438568, abs=1e-9)  # w1
    assert hidden.samples[0].upstream[0] == pytest.approx(0.036350306, abs=1e-9)  # ∂E/∂a_h1


def test_entries_against_finite_differences():
    model = MLP(2, [3, 2, 1], activation="tanh", seed=5)
    inputs, targets = [[0.3, -0.7], [0.9, 0.1]], [0.5, -0.2]

    def error() -> float:
        return half_sum_squared_error([model(x) for x in inputs], targets).data

    view = layer_view(half_sum_squared_error([model(x) for x in inputs], targets))
    h = 1e-6
    for l, layer in enumerate(model.layers):  # noqa: E741
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate([*neuron.w, neuron.b]):
                keep = w.data
                w.data = keep + h
                up = error()
                w.data = keep - h
                down = error()
                w.data = keep
                numeric = (up - down) / (2 * h)
                gradients = view.layers[l]
                ours = (
                    gradients.bias_grads[j] if i == len(neuron.w) else gradients.weight_grads[j][i]
                )
                assert ours == pytest.approx(numeric, abs=1e-8)


def test_no_grad_changes_and_no_backward_needed():
    model = MLP(2, [2, 1], seed=0)
    loss = half_sum_squared_error(model([1.0, 2.0]), 0.0)
    layer_view(loss)
    assert all(p.grad == 0.0 for p in model.parameters())
    assert loss.grad == 0.0


def test_text_ties_rows_to_neuron_names():
    loss = backprop_example().error
    text = describe_layers(layer_view(loss))
    assert "δ¹ = ∂E/∂a¹ ⊙ σ′(z¹)" in text
    assert "δ⁰ = (W¹)ᵀ δ¹ ⊙ σ′(z⁰)" in text
    assert "∂E/∂W⁰ = δ⁰ (x)ᵀ" in text
    assert "∂E/∂L1.n0.b = 0.1385" in text
    row = next(
        line
        for line in text.splitlines()
        if line.strip().startswith("L1.n0 [") and "0.08217" in line
    )
    assert "0.08267" in row  # row 0 of ∂E/∂W¹ is L1.n0's ∂E/∂w0, ∂E/∂w1
    assert "L0.n0: 0.4 × 0.1385 + 0.5 × (-0.0381) = 0.03635" in text  # the two paths, summed
    assert "Every entry equals the engine's gradient of the same node (checked 16 entries" in text
    ascii_text = describe_layers(layer_view(loss), ascii=True)
    assert ascii_text.isascii(), [c for c in ascii_text if not c.isascii()]
    assert "delta^0 = (W^1)^T delta^1 (.) sigma'(z^0)" in ascii_text


def test_the_closing_line_says_equal_only_when_it_is():
    view = layer_view(backprop_example().error)
    assert describe_layers(view).endswith("(checked 16 entries of δ, ∂E/∂b and ∂E/∂W).")
    rounding = describe_layers(dataclasses.replace(view, largest_difference=1e-17))
    assert "equals the engine's gradient of the same node up to rounding" in rounding
    assert "largest difference 1e-17" in rounding
    wrong = describe_layers(dataclasses.replace(view, largest_difference=0.01))
    assert "Every entry" not in wrong
    assert "The entries DIFFER from the engine's gradients" in wrong
    assert "largest difference 0.01" in wrong


def test_big_layers_are_summarised():
    model = MLP(20, [12, 2], seed=0)
    text = str(layer_view(mean_squared_error(model([0.1] * 20), [0.0, 1.0])))
    assert "12 × 20 entries" in text
    assert "[ " not in text.split("Layer 0")[1]


def test_refusals():
    with pytest.raises(TypeError, match="layer_view"):
        layer_view(1.0)
    x = Value(2.0, label="x")
    with pytest.raises(ValueError, match="no neuron"):
        layer_view(x * x)
    model = MLP(2, [2, 1], seed=0, op_by_op=True)
    with pytest.raises(ValueError, match="op_by_op"):
        layer_view(half_sum_squared_error(model([1.0, 2.0]), 0.0))
    model = MLP(2, [2, 1], seed=0)
    loss = half_sum_squared_error(model([1.0, 2.0]), 0.0) + l2_penalty(model.parameters(), 0.1)
    with pytest.raises(ValueError, match="L2 penalty"):
        layer_view(loss)


# --- reachable from explain() and from `autograd-lite step` ------------------------------


def test_explain_with_the_layer_view():
    loss = backprop_example().error
    text = explain(loss, layers=True)
    assert text.startswith(explain(loss))  # the neuron view first, unchanged
    assert text.endswith(describe_layers(layer_view(loss)))
    assert "δ⁰ = (W¹)ᵀ δ¹ ⊙ σ′(z⁰)" in text
    assert explain(loss, layers=True, ascii=True).isascii()


def test_step_command_ends_with_the_layer_equations(capsys):
    assert main(["step", "--no-pause", "--layer-view"]) == 0
    out = capsys.readouterr().out
    done = out.index("Done:")
    equations = out.index("δ¹ = ∂E/∂a¹ ⊙ σ′(z¹)")
    assert done < equations  # after the neuron steps
    assert "L0.n0: 0.4 × 0.1385 + 0.5 × (-0.0381) = 0.03635" in out
    assert "Every entry equals the engine's gradient of the same node (checked 16 entries" in out


def test_step_command_layer_view_refuses_op_by_op(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["step", "--no-pause", "--layer-view", "--op-by-op"])
    assert stop.value.code == 2
    assert "--layer-view" in capsys.readouterr().err


# --- the structure from the model itself, when it is at hand ------------------------------


def _assert_matches_finite_differences(view, model: MLP, loss_of) -> None:
    for layer, gradients in zip(model.layers, view.layers):
        for j, neuron in enumerate(layer.neurons):
            expected = numeric_gradient(loss_of, neuron.b)
            assert gradients.bias_grads[j] == pytest.approx(expected, rel=1e-6, abs=1e-9)
            for i, w in enumerate(neuron.w):
                expected = numeric_gradient(loss_of, w)
                assert gradients.weight_grads[j][i] == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_the_view_from_the_model_equals_the_view_from_the_labels(activation):
    model = MLP(3, [4, 2, 2], activation=activation, output_activation="sigmoid", seed=5)
    inputs = [[0.5, -1.0, 2.0], [0.1, 0.2, -0.3], [1.0, 1.0, 1.0]]
    loss = mean_squared_error([model(x) for x in inputs], [[0.0, 1.0]] * 3)
    assert layer_view(loss, model=model) == layer_view(loss)


def test_the_model_knows_its_nodes_when_a_label_was_changed():
    """A renamed output node hides the sigmoid from the names; the model still knows it."""
    model = MLP(2, [2, 1], activation="tanh", output_activation="sigmoid", seed=1)
    x, target = [0.4, -0.7], 0.2

    def loss_of() -> Value:
        prediction = model(x)
        prediction.label = "prediction"  # the user's own name for the output
        return half_sum_squared_error(prediction, target)

    loss = loss_of()
    a = model.layers[1].neurons[0].a.data
    by_model = layer_view(loss, model=model)
    assert by_model.layers[1].activation == "sigmoid"
    assert by_model.layers[1].samples[0].slope == pytest.approx((a * (1 - a),), rel=1e-12)
    assert by_model.layers[1].samples[0].upstream == pytest.approx((a - target,), rel=1e-12)
    _assert_matches_finite_differences(by_model, model, loss_of)
    assert layer_view(loss).layers[1].activation == "linear"  # the names alone misread it


def test_the_model_picks_its_own_calls_out_of_a_loss_with_two_models():
    first, second = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=2)  # the same names

    def loss_of() -> Value:
        x = [0.3, -0.9]
        return mean_squared_error([first(x)], [1.0]) + mean_squared_error([second(x)], [-1.0])

    loss = loss_of()
    with pytest.raises(ValueError, match="layer_view"):
        layer_view(loss)  # by the names, two models look like one model called twice
    for model in (first, second):
        view = layer_view(loss, model=model)
        assert len(view.layers[0].samples) == 1
        _assert_matches_finite_differences(view, model, loss_of)


def test_refusals_of_the_model():
    model = MLP(2, [2, 1], seed=0)
    loss = half_sum_squared_error(model([1.0, 2.0]), 0.0)
    with pytest.raises(TypeError, match="layer_view: model must be an MLP"):
        layer_view(loss, model="mlp")
    with pytest.raises(ValueError, match="no neuron of the model given"):
        layer_view(loss, model=MLP(2, [2, 1], seed=0))
    by_op = MLP(2, [2, 1], seed=0, op_by_op=True)
    with pytest.raises(ValueError, match="op_by_op"):
        layer_view(half_sum_squared_error(by_op([1.0, 2.0]), 0.0), model=by_op)
