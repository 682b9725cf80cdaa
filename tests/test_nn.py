"""Neurons, layers, MLPs: structure, labels, initialisation, gradients against a published
hand-worked example and central finite differences, op-by-op equivalence, save and load."""

from __future__ import annotations

import json
import math
import random

import pytest
from helpers import numeric_gradient

from autograd_lite import Value, names, topological_order
from autograd_lite.names import parse
from autograd_lite.nn import (
    MLP,
    SGD,
    Layer,
    Neuron,
    data,
    half_sum_squared_error,
    mean_squared_error,
)


def set_weights(model, weights):
    """weights[l][j] = (w list, b) for neuron j of layer l."""
    for layer, layer_weights in zip(model.layers, weights):
        for neuron, (w, b) in zip(layer.neurons, layer_weights):
            for wi, value in zip(neuron.w, w):
                wi.data = value
            neuron.b.data = b


# --- structure and labels ------------------------------------------------------------------


def test_layers_neurons_and_parameters():
    model = MLP(3, [4, 1, 2], seed=0)
    assert [len(layer.neurons) for layer in model.layers] == [4, 1, 2]
    assert [len(layer.neurons[0].w) for layer in model.layers] == [3, 4, 1]
    assert len(model.parameters()) == (3 + 1) * 4 + (4 + 1) * 1 + (1 + 1) * 2
    assert isinstance(model([1.0, 2.0, 3.0]), list)  # two outputs: a list
    assert isinstance(MLP(3, [4, 1], seed=0)([1.0, 2.0, 3.0]), Value)  # one output: a Value


def test_every_parameter_is_labelled_with_where_it_lives():
    model = MLP(2, [3, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert len(set(labels)) == len(labels)
    assert model.layers[1].neurons[0].w[2].label == "L1.n0.w2"
    assert model.layers[0].neurons[2].b.label == "L0.n2.b"


def test_a_call_labels_inputs_weighted_inputs_and_activations():
    model = MLP(2, [2, 1], activation="tanh", seed=0)
    out = model([0.5, -0.5])
    hidden = model.layers[0].neurons[1]
    assert (hidden.z.label, hidden.a.label, hidden.a.op) == ("L0.n1.z", "L0.n1.a", "tanh")
    assert out is model.layers[1].neurons[0].z  # a linear neuron's output is z itself
    leaves = [v.label for v in topological_order(out) if not v.inputs and v.label.startswith("x")]
    assert sorted(leaves) == ["x0", "x1"]


def test_weighted_input_is_one_node_whose_local_grads_are_activations_and_weights():
    neuron = Neuron(3, activation="sigmoid", seed=0)
    neuron([1.0, 2.0, 3.0])
    z = neuron.z
    assert z.op == "weighted_sum" and len(z.inputs) == 7
    weights = [w.data for w in neuron.w]
    assert z.local_grads == pytest.approx([1.0, 2.0, 3.0, *weights, 1.0])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_activations_by_name(activation):
    neuron = Neuron(1, activation=activation, seed=0)
    neuron.w[0].data, neuron.b.data = 1.0, -3.0  # z = x - 3
    expected = {
        "sigmoid": 1 / (1 + math.exp(1.0)),
        "tanh": math.tanh(-1.0),
        "relu": 0.0,
        "leaky_relu": -0.01,
        "linear": -1.0,
    }
    assert neuron([2.0]).data == pytest.approx(expected[activation])


def test_a_hidden_layer_of_one_neuron_and_a_deep_narrow_network():
    model = MLP(2, [1, 1], activation="tanh", seed=0)
    assert isinstance(model([1.0, 1.0]), Value)
    deep = MLP(1, [1] * 300, activation="tanh", seed=0)
    out = deep([0.5])
    out.backward()  # no recursion limit on depth
    assert math.isfinite(deep.layers[0].neurons[0].w[0].grad)


def test_values_can_be_inputs_and_get_gradients():
    x = [Value(0.3, label="a"), Value(-0.2, label="b")]
    model = MLP(2, [2, 1], seed=0)
    model(x).backward()
    assert [v.label for v in x] == ["a", "b"]  # kept, not replaced by x0, x1
    for v in x:
        assert v.grad == pytest.approx(numeric_gradient(lambda: model(x), v), rel=1e-6)


# --- initialisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "activation, bound",
    [("relu", math.sqrt(6 / 8)), ("leaky_relu", math.sqrt(6 / 8)), ("tanh", math.sqrt(6 / 24))],
)
def test_initialisation_suits_the_activation(activation, bound):
    layer = Layer(8, 16, activation=activation, seed=0)  # He: sqrt(6/fan_in); Glorot: fan_in+out
    weights = [w.data for n in layer.neurons for w in n.w]
    assert max(abs(w) for w in weights) <= bound
    assert max(abs(w) for w in weights) > 0.9 * bound  # spread over the whole range
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_seed_makes_weights_reproducible():
    def weights(seed):
        return [p.data for p in MLP(2, [4, 1], seed=seed).parameters()]

    assert weights(7) == weights(7)
    assert weights(7) != weights(8)


def test_weights_can_be_set_by_hand():
    neuron = Neuron(2, activation="sigmoid", seed=1)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.15, 0.20, 0.35
    z = 0.15 * 0.05 + 0.20 * 0.10 + 0.35
    assert neuron([0.05, 0.10]).data == pytest.approx(1 / (1 + math.exp(-z)))


def test_a_model_prints_each_layer_under_the_name_its_nodes_carry():
    model = MLP(3, [4, 1], activation="relu", seed=0)
    printed = "MLP(\n  (L0): Layer(3 -> 4, relu)\n  (L1): Layer(4 -> 1, linear)\n)"
    assert str(model) == repr(model) == printed
    lines = repr(model).splitlines()[1:-1]
    for l, (line, layer) in enumerate(zip(lines, model.layers)):  # noqa: E741
        name = line.split("(")[1].split(")")[0]
        assert {names.layer_name(parse(p.label).layer) for p in layer.parameters()} == {name}
        assert name == names.layer_name(l)
    assert repr(model.layers[0].neurons[2]) == "Neuron(3 -> 1, relu)"
    split = MLP(2, [2], output_activation="sigmoid", op_by_op=True)
    assert repr(split) == "MLP(\n  (L0): Layer(2 -> 2, sigmoid, op_by_op=True)\n)"
    assert repr(split.layers[0].neurons[0]) == "Neuron(2 -> 1, sigmoid, op_by_op=True)"


def test_describe_is_the_one_line_call_that_builds_the_architecture():
    for model in (MLP(3, [4, 1], activation="relu"), MLP(2, [2], "sigmoid", op_by_op=True)):
        text = model.describe()
        assert "\n" not in text and text.startswith(f"MLP({model.nin}, {model.nouts}, ")
        again = eval(text, {"MLP": MLP})  # the text is the call itself
        assert again.describe() == text and again.op_by_op == model.op_by_op
        assert [layer.activation for layer in again.layers] == [
            layer.activation for layer in model.layers
        ]
    assert MLP(2, [1]).describe() == "MLP(2, [1], activation='tanh', output_activation='linear')"


# --- gradients -----------------------------------------------------------------------------

# The well-known step-by-step backpropagation example: 2 inputs, 2 sigmoid hidden neurons,
# 2 sigmoid outputs, E = 1/2 sum (target - output)^2, learning rate 0.5. Its published,
# hand-computed numbers: E = 0.298371109 and the weights after one update.
WORKED = [
    [([0.15, 0.20], 0.35), ([0.25, 0.30], 0.35)],
    [([0.40, 0.45], 0.60), ([0.50, 0.55], 0.60)],
]
WORKED_AFTER = [
    [[0.149780716, 0.19956143], [0.24975114, 0.29950229]],
    [[0.35891648, 0.408666186], [0.511301270, 0.561370121]],
]


def test_the_published_worked_example():
    model = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    set_weights(model, WORKED)
    error = half_sum_squared_error(model([0.05, 0.10]), [0.01, 0.99])
    assert error.data == pytest.approx(0.298371109, abs=1e-9)
    error.backward()
    assert model.layers[1].neurons[0].w[0].grad == pytest.approx(0.082167041, abs=1e-9)
    SGD(model.parameters(), lr=0.5).step()
    after = [[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers]
    for layer, expected_layer in zip(after, WORKED_AFTER):
        for weights, expected in zip(layer, expected_layer):
            assert weights == pytest.approx(expected, abs=1e-8)


def test_output_weight_gradient_is_the_notes_chain_rule():
    # dE/dw = (dE/d output) * (d output/dz) * (dz/dw) = (o - t) * o(1 - o) * a_in
    neuron = Neuron(2, activation="sigmoid", seed=0)
    a_in, target = [0.6, -0.4], 0.2
    out = neuron(a_in)
    half_sum_squared_error(out, target).backward()
    o = out.data
    for w, a in zip(neuron.w, a_in):
        assert w.grad == pytest.approx((o - target) * o * (1 - o) * a)
    assert neuron.b.grad == pytest.approx((o - target) * o * (1 - o))


@pytest.mark.parametrize("op_by_op", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "leaky_relu"])
def test_every_parameter_gradient_matches_finite_differences(activation, op_by_op):
    model = MLP(3, [4, 3, 2], activation=activation, seed=3, op_by_op=op_by_op)
    rng = random.Random(0)
    for layer in model.layers:
        for neuron in layer.neurons:  # non-zero biases: keep relu away from its kink at 0
            neuron.b.data = rng.uniform(-0.5, 0.5)
    samples = [[0.5, -1.0, 0.25], [-0.3, 0.8, 1.1]]
    targets = [[1.0, -1.0], [0.0, 0.5]]

    def loss():
        return mean_squared_error([model(x) for x in samples], targets)

    model.zero_grad()
    loss().backward()
    for p in model.parameters():
        assert p.grad == pytest.approx(numeric_gradient(loss, p), rel=1e-4, abs=1e-7), p.label


def test_op_by_op_gives_the_same_numbers_with_a_bigger_graph():
    x = [0.4, -0.7]
    compact = MLP(2, [3, 1], activation="tanh", seed=5)
    spelled = MLP(2, [3, 1], activation="tanh", seed=5, op_by_op=True)
    out_compact, out_spelled = compact(x), spelled(x)
    out_compact.backward()
    out_spelled.backward()
    assert out_spelled.data == pytest.approx(out_compact.data, rel=1e-12)
    grads = [p.grad for p in compact.parameters()]
    assert [p.grad for p in spelled.parameters()] == pytest.approx(grads, rel=1e-12)
    ops = {v.op for v in topological_order(out_spelled)}
    assert "weighted_sum" not in ops and {"*", "+"} <= ops
    assert len(topological_order(out_spelled)) > len(topological_order(out_compact))


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: MLP(2, [3], activation="softmax"), ValueError, "MLP: unknown activation 'sof"),
        (lambda: MLP(2, [3], output_activation=["relu"]), ValueError, r"unknown activation \['r"),
        (lambda: MLP(0, [3]), ValueError, "MLP: nin must be >= 1, got 0"),
        (lambda: MLP(2.0, [3]), TypeError, "MLP: nin must be an int, got float 2.0"),
        (lambda: MLP(2, []), ValueError, "MLP: nouts must be a non-empty list"),
        (lambda: MLP(2, 3), ValueError, "MLP: nouts must be a non-empty list"),
        (lambda: MLP(2, [3, 0]), ValueError, "MLP: each layer size in nouts must be >= 1, got 0"),
        (lambda: MLP(2, [3, True]), TypeError, "each layer size in nouts must be an int"),
        (lambda: Layer(2, 0), ValueError, "Layer: nout must be >= 1, got 0"),
        (lambda: Neuron(-1), ValueError, "Neuron: nin must be >= 1, got -1"),
        (lambda: Neuron(2, activation="step"), ValueError, "Neuron: unknown activation 'step'"),
    ],
)
def test_bad_models_are_refused(make, error, words):
    with pytest.raises(error, match=words):
        make()


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: MLP(2, [1], seed=0)([1.0, 2.0, 3.0]), "MLP: expected 2 inputs, got 3"),
        (lambda: Neuron(3, name="L1.n0")([1.0]), "L1.n0: expected 3 inputs, got 1"),
    ],
)
def test_wrong_number_of_inputs_is_refused(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# --- save and load -------------------------------------------------------------------------


def test_save_and_load_give_back_the_same_model(tmp_path):
    model = MLP(3, [5, 4, 2], activation="relu", output_activation="sigmoid", seed=1)
    path = model.save(tmp_path / "model.json")
    saved = json.loads(path.read_text())
    assert (saved["format"], saved["version"]) == ("autograd_lite.MLP", 1)
    loaded = MLP.load(path)
    assert (loaded.nin, loaded.nouts, loaded.activation, loaded.output_activation) == (
        3,
        [5, 4, 2],
        "relu",
        "sigmoid",
    )
    assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]
    assert [p.label for p in loaded.parameters()] == [p.label for p in model.parameters()]
    assert MLP.load(MLP(2, [1], op_by_op=True).save(tmp_path / "o.json")).op_by_op is True


def good_model_dict():
    return MLP(2, [2, 1], seed=0).to_dict()


def edit(change):
    def make():
        saved = good_model_dict()
        change(saved)
        return json.dumps(saved)

    return make


BAD_FILES = [
    (lambda: "this is not json", "not a valid JSON model file"),
    (lambda: "[1, 2]", "expected a JSON object, got list"),
    (edit(lambda d: d.update(format="pickle")), "format must be 'autograd_lite.MLP'"),
    (edit(lambda d: d.update(version=2)), "unsupported version 2"),
    (edit(lambda d: d.pop("layers")), r"missing key\(s\): layers"),
    (edit(lambda d: d.update(code="print(1)")), r"unexpected key\(s\): code"),
    (edit(lambda d: d.update(nin="2")), "nin must be a positive integer, got '2'"),
    (edit(lambda d: d.update(nin=True)), "nin must be a positive integer, got True"),
    (edit(lambda d: d.update(nouts=[])), "nouts must be a non-empty list"),
    (edit(lambda d: d.update(nouts=[2, 1.5])), "nouts must be a non-empty list"),
    (edit(lambda d: d.update(activation="__import__('os')")), "unknown activation"),
    (edit(lambda d: d.update(output_activation=["relu"])), "unknown output_activation"),
    (edit(lambda d: d.update(op_by_op="yes")), "op_by_op must be true or false"),
    (edit(lambda d: d["layers"].pop()), "layers must be a list of 2 layers"),
    (edit(lambda d: d["layers"][1].append(d["layers"][1][0])), r"layers\[1\] must be a list of 1"),
    (edit(lambda d: d["layers"][0][0]["w"].pop()), r"layers\[0\]\[0\].w must be a list of 2"),
    (edit(lambda d: d["layers"][1][0]["w"].append(0.0)), r"layers\[1\]\[0\].w must be a list of 2"),
    (edit(lambda d: d["layers"][0][1].pop("b")), r"layers\[0\]\[1\] must be an object with"),
    (
        edit(lambda d: d["layers"][0][1]["w"].__setitem__(0, "abc")),
        r"layers\[0\]\[1\].w\[0\] must be a finite number, got 'abc'",
    ),
    (
        edit(lambda d: d["layers"][0][1]["w"].__setitem__(1, False)),
        r"layers\[0\]\[1\].w\[1\] must be a finite number, got False",
    ),
    (
        edit(lambda d: d["layers"][1][0].update(b=None)),
        r"layers\[1\]\[0\].b must be a finite number, got None",
    ),
    (lambda: good_model_dict_text().replace("0.0", "NaN", 1), "must be a finite number, got nan"),
    (lambda: good_model_dict_text().replace("0.0", "-Infinity", 1), "finite number, got -inf"),
    (
        lambda: good_model_dict_text().replace("0.0", "1e999", 1),
        r"must be a finite number, got 1e999 \(beyond float range, \|x\| <= 1.8e308\)",
    ),
    (
        lambda: good_model_dict_text().replace("0.0", "-" + "9" * 400, 1),
        r"\.b must be a finite number, got -9.99e\+399, an int of 400 digits \(beyond float range",
    ),
    (
        lambda: good_model_dict_text().replace("0.0", "1" + "0" * 5000, 1),  # Python's int limit
        r"\.b must be a finite number, got 1.00e\+5000, an int of 5001 digits",
    ),
    (edit(lambda d: d.update(nin=10**400)), r"nin must be a positive integer, got 1.00e\+400"),
    (edit(lambda d: d.update(version=True)), r"unsupported version True \(this library reads 1\)"),
    (edit(lambda d: d.update(version=1.0)), r"unsupported version 1.0 \(this library reads 1\)"),
    (edit(lambda d: d.update(nouts=list(range(1000)))), r"got \[0, 1, 2, .*\.\.\.$"),
    (edit(lambda d: d.update(format="[" * 1000)), r"format must be .*, got '\[\[\[+\.\.\.$"),
    (lambda: "[" * 1000 + "]" * 1000, "nested 1000 levels deep; a model file is 5 levels deep"),
    (lambda: '{"a": ' * 100_000, "nested 100000 levels deep; a model file is 5 levels deep"),
    (lambda: '"' + '\\"' * 100_000, "not a valid JSON model file: Unterminated string"),
]


def good_model_dict_text():
    return json.dumps(good_model_dict())


@pytest.mark.parametrize("make_text, words", BAD_FILES)
def test_a_bad_file_raises_a_value_error_naming_the_problem(tmp_path, make_text, words):
    path = tmp_path / "bad.json"
    path.write_text(make_text())
    with pytest.raises(ValueError, match=words) as caught:
        MLP.load(path)
    assert str(caught.value).startswith(str(path))


def test_a_binary_file_is_not_a_model(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(bytes([0xFF, 0xFE, 0x00, 0x81]))
    with pytest.raises(ValueError, match="weights.bin: not a valid JSON model file"):
        MLP.load(path)


def test_from_dict_refuses_what_no_file_could_hold_in_one_line():
    saved = good_model_dict()
    saved["layers"][0][0]["w"][0] = 10**400  # an int too large for a float
    weight = r"^model: layers\[0\]\[0\].w\[0\] must be a finite number, got 1e\+400 \(an int"
    with pytest.raises(ValueError, match=weight + r" of 401 digits\)$"):
        MLP.from_dict(saved)
    deep: list = []
    for _ in range(100_000):  # repr() of it raises RecursionError: the message must not
        deep = [deep]
    saved = {**good_model_dict(), "nouts": deep}
    with pytest.raises(ValueError, match=r"nouts must be .* got <list that cannot be shown>$"):
        MLP.from_dict(saved)
    with pytest.raises(ValueError, match=r"unexpected key\(s\): \('a',\), 7$"):
        MLP.from_dict({**good_model_dict(), ("a",): 1, 7: 2})


def test_load_and_save_name_a_path_that_is_no_path():
    with pytest.raises(TypeError, match="^MLP.load: path must be a str or a Path, got int 3$"):
        MLP.load(3)
    with pytest.raises(TypeError, match="^MLP.save: path must be a str or a Path, got NoneType"):
        MLP(1, [1]).save(None)


def test_from_dict_names_its_source():
    saved = good_model_dict()
    saved["nin"] = -1
    with pytest.raises(ValueError, match="^checkpoint: nin must be a positive integer"):
        MLP.from_dict(saved, source="checkpoint")


def test_save_refuses_a_nan_weight_with_the_message_load_gives(tmp_path):
    model = MLP(2, [2, 1], seed=0)
    model.layers[1].neurons[0].w[1].data = math.nan
    path = tmp_path / "model.json"
    with pytest.raises(ValueError) as on_save:
        model.save(path)
    assert not path.exists()
    path.write_text(json.dumps(model.to_dict()))  # what save() used to write
    with pytest.raises(ValueError) as on_load:
        MLP.load(path)
    assert str(on_save.value) == str(on_load.value)
    assert "layers[1][0].w[1] must be a finite number, got nan" in str(on_load.value)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: MLP(2, [2], seed="x"), "MLP: seed must be None or an int, got str 'x'"),
        (lambda: MLP(2, [2], seed=1.5), "MLP: seed must be None or an int"),
        (lambda: Neuron(2, seed=True), "Neuron: seed must be None or an int"),
        (lambda: data.moons(10, seed="x"), "moons: seed must be None or an int"),
        (lambda: data.circles(10, seed=[1]), "circles: seed must be None or an int"),
        (lambda: data.spiral(5, seed="x"), "spiral: seed must be None or an int"),
        (lambda: data.sine(5, seed="x"), "sine: seed must be None or an int"),
        (lambda: MLP(2, [1])(3.0), r"^MLP call: inputs must be a list of 2 .*got float 3.0$"),
        (lambda: MLP(2, [1])("ab"), r"^MLP call: inputs must be a list of 2 .*got str 'ab'$"),
        (lambda: MLP(2, [1])([1, "a"]), r"^MLP call: inputs\[1\] must be a number or a Value"),
        (lambda: MLP(2, [1])([True, 1]), r"^MLP call: inputs\[0\] .* got bool True$"),
    ],
)
def test_bad_seeds_and_calls_are_type_errors_naming_the_operation(make, words):
    with pytest.raises(TypeError, match=words):
        make()
