"""The grammar of node names: every name the model builds parses back to where it lives,
and what is not in the grammar is refused."""

from __future__ import annotations

import pytest

from autograd_lite import Value, names, topological_order, weighted_sum
from autograd_lite.names import Name, Role, parse
from autograd_lite.nn import MLP
from autograd_lite.nn.losses import mean_squared_error
from autograd_lite.stepping import backprop_example


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("L0.n0.w12", Name(Role.WEIGHT, 0, 0, 12)),
        ("L3.n1.b", Name(Role.BIAS, 3, 1)),
        ("L1.n0.z", Name(Role.WEIGHTED_INPUT, 1, 0)),
        ("L10.n20.a", Name(Role.ACTIVATION, 10, 20)),
        ("x7", Name(Role.INPUT, index=7)),
        ("t1", Name(Role.TARGET, index=1)),
        ("e0", Name(Role.ERROR_TERM, index=0)),
        ("e2^2", Name(Role.SQUARED_ERROR, index=2)),
        ("E1", Name(Role.ERROR_SHARE, index=1)),
        ("E", Name(Role.ERROR)),
    ],
)
def test_a_label_parses_to_where_it_lives_and_back(label, expected):
    assert parse(label) == expected
    assert str(expected) == label


@pytest.mark.parametrize(
    "label",
    ["", "w", "loss", "L1.n0.q", "L1.n0.w", "L1.n0", "L1.n0.w1.b", "L01.n0.b", "L1.n00.a",
     "x-1", "x", "x01", "Lx.n0.b", "l1.n0.b", "L1.n0.a ", " x0", "e0^3", "E01", "T0", "L1.N0.b",
     "x0#2", "L1.n0.z#2"],
)  # fmt: skip
def test_labels_outside_the_grammar_parse_to_none(label):
    assert parse(label) is None


def test_every_name_a_model_builds_parses_back():
    example = backprop_example(MLP(3, [4, 2], "relu", "sigmoid", seed=1), [0.5, -1.0, 2.0])
    model = example.model
    for l, layer in enumerate(model.layers):  # noqa: E741 (l for layer, as in the notes)
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                assert parse(w.label) == Name(Role.WEIGHT, l, j, i)
                assert w.label == names.weight((l, j), i)
            assert parse(neuron.b.label) == Name(Role.BIAS, l, j)
            assert parse(neuron.z.label) == Name(Role.WEIGHTED_INPUT, l, j)
            assert parse(neuron.a.label) == Name(Role.ACTIVATION, l, j)
            assert parse(neuron.b.label).neuron_name == neuron.name == names.neuron_name(l, j)
    roles = {parse(v.label).role for v in topological_order(example.error) if v.label}
    # every role but those of a mean (ΣE) and of a penalty (Σw^2, P)
    assert roles == set(Role) - {Role.ERROR_SUM, Role.PENALTY_SUM, Role.PENALTY}
    # a mean loss sums its terms in a node ΣE first
    mean = mean_squared_error(example.outputs, example.targets)
    assert {parse(v.label).role for v in topological_order(mean) if v.label} == roles - {
        Role.ERROR_SHARE
    } | {Role.ERROR_SUM}


def test_builders_refuse_what_no_name_can_hold():
    with pytest.raises(ValueError, match="weight: i must be >= 0, got -1"):
        names.weight((0, 0), -1)
    with pytest.raises(TypeError, match="input_name: i must be an int, got float 1.0"):
        names.input_name(1.0)
    with pytest.raises(TypeError, match="neuron_name: neuron must be an int, got bool True"):
        names.neuron_name(0, True)
    with pytest.raises(TypeError, match=r"^bias: neuron must be its name \(like 'L1.n0'\) or"):
        names.bias("")
    with pytest.raises(TypeError, match="^parse: label must be a str, got NoneType None$"):
        parse(None)
    with pytest.raises(ValueError, match="error_node: role must be one of the error's roles"):
        names.error_node(Role.WEIGHT, 0)
    with pytest.raises(ValueError, match="a target t needs index"):
        names.error_node(Role.TARGET)


def test_a_name_record_refuses_missing_or_extra_numbers():
    with pytest.raises(ValueError, match="a bias b needs layer and neuron"):
        Name(Role.BIAS, 1)
    with pytest.raises(ValueError, match="an? error E needs no numbers"):
        Name(Role.ERROR, index=0)
    with pytest.raises(ValueError, match="layer must be >= 0"):
        Name(Role.ACTIVATION, -1, 0)
    with pytest.raises(TypeError, match="role must be a Role"):
        Name("weight w", 0, 0, 0)


def test_roles_group_as_the_notes_do():
    assert {r for r in Role if r.in_neuron} == {
        Role.WEIGHT, Role.BIAS, Role.WEIGHTED_INPUT, Role.ACTIVATION}  # fmt: skip
    assert {r for r in Role if r.is_parameter} == {Role.WEIGHT, Role.BIAS}
    assert not any(r.in_neuron and r.in_error for r in Role)
    assert parse("L2.n3.w4").part == "w" and parse("x0").part is None


def test_weighted_sum_layout_round_trips_and_matches_the_engine():
    ws, xs = [Value(0.5, "w0"), Value(-1.0, "w1")], [Value(2.0, "x0"), Value(3.0, "x1")]
    b = Value(0.1, "b")
    z = weighted_sum(ws, xs, b)
    assert z.inputs == names.weighted_sum_inputs(ws, xs, b)
    parts = names.weighted_sum_parts(z.inputs)
    assert parts.weights == tuple(ws) and parts.activations == tuple(xs) and parts.bias is b
    local = names.weighted_sum_parts(z.local_grads)  # dz/dw = a, dz/da = w, dz/db = 1
    assert local.weights == (2.0, 3.0) and local.activations == (0.5, -1.0) and local.bias == 1.0
    with pytest.raises(ValueError, match="got 2 weights but 1 inputs"):
        names.weighted_sum_inputs(ws, xs[:1], b)
    with pytest.raises(ValueError, match="expected 2n \\+ 1 inputs"):
        names.weighted_sum_parts(z.inputs[:-1])
