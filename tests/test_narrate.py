"""Narration: the numbers in the text, parsed back, equal the hand-derived ones of the classic
walk-through, finite differences and the engine's; chains multiply to their gradients."""

from __future__ import annotations

import re

import pytest
from helpers import numeric_gradient

from autograd_lite import Value, sum_values, topological_order
from autograd_lite.narrate import (
    chains,
    describe_forward,
    describe_step,
    explain,
    node_names,
    role_note,
    to_ascii,
)
from autograd_lite.nn import MLP, worked_example
from autograd_lite.stepping import backprop_example

NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?"


def numbers(text):
    return [float(x) for x in re.findall(NUMBER, text)]


def parse_chains(text):
    """{name: (factors, result)} from 'dE/dNAME = symbols' over '= f × f × f = result'."""
    found = {}
    lines = text.splitlines()
    for line, below in zip(lines, lines[1:]):
        head = re.match(r"\s*∂E/∂(\S+) = ∂", line)
        if head and below.strip().startswith("= "):
            factors, result = below.strip()[2:].rsplit(" = ", 1)
            found[head.group(1)] = ([float(f.strip("()")) for f in factors.split(" × ")],
                                    float(result))  # fmt: skip
    return found


def parse_sums(text):
    """{name: (terms, total)} from '∂E/∂NAME = t + t = total' (blame along several paths)."""
    found = {}
    for match in re.finditer(r"∂E/∂(\S+) = ([^=\n]+ \+ [^=\n]+) = (\S+)\n", text + "\n"):
        terms = [float(t.strip(" ()")) for t in match.group(2).split(" + ")]
        found[match.group(1)] = (terms, float(match.group(3)))
    return found


def close(x, y, digits=4):
    """x was printed with `digits` significant digits."""
    return x == pytest.approx(y, rel=10 ** (1 - digits), abs=1e-12)


# --- explain() on the classic example -----------------------------------------------------


def test_explain_writes_an_output_weights_gradient_as_its_chain():
    text = explain(backprop_example().error)
    assert (
        "∂E/∂L1.n0.w0 = ∂E/∂L1.n0.a × ∂L1.n0.a/∂L1.n0.z × ∂L1.n0.z/∂L1.n0.w0\n"
        "               = 0.7414 × 0.1868 × 0.5933 = 0.08217"
    ) in text


def test_explained_numbers_equal_the_walk_through_and_finite_differences():
    example = backprop_example()
    text = explain(example.error)
    found = parse_chains(text)
    params = example.model.parameters()
    assert sorted(found) == sorted([p.label for p in params] + ["L1.n0.a", "L1.n1.a"])
    # the walk-through's hand-derived gradients (w1, w5) and factors
    assert close(found["L1.n0.w0"][1], 0.082167041)
    assert found["L1.n0.w0"][0] == [0.7414, 0.1868, 0.5933]  # ∂E/∂out, ∂out/∂net, out_h1
    assert close(found["L0.n0.w0"][1], 0.000438568)
    assert found["L0.n0.w0"][0] == [0.03635, 0.2413, 0.05]  # ∂E/∂out_h1, ∂out_h1/∂net_h1, i1
    for p in params:
        factors, result = found[p.label]
        assert close(result, numeric_gradient(example.forward, p)), p.label
        product = 1.0
        for f in factors:
            product *= f
        assert close(product, result, digits=3), p.label  # rounded factors, rounded product


def test_hidden_neuron_blame_is_the_sum_over_its_outgoing_weights():
    text = explain(backprop_example().error)
    assert "Blame reaches L0.n0.a along 2 paths" in text
    assert "via weight L1.n0.w0: ∂E/∂L1.n0.a × ∂L1.n0.a/∂L1.n0.z × ∂L1.n0.z/∂L0.n0.a" in text
    assert "via weight L1.n1.w0:" in text
    terms, total = parse_sums(text)["L0.n0.a"]
    # the walk-through: ∂E_o1/∂out_h1 = 0.055399425, ∂E_o2/∂out_h1 = -0.019049119
    assert close(terms[0], 0.055399425) and close(terms[1], -0.019049119)
    assert close(total, 0.036350306)


def test_explained_numbers_equal_the_engines_and_change_no_gradient():
    example = backprop_example()
    nodes = [step for step in example.error.backward_steps()]
    grads = {s.input: s.input.grad for s in nodes}
    for node in grads:  # explain must not touch them: put markers in
        node.grad = 7.0
    text = explain(example.error)
    assert all(node.grad == 7.0 for node in grads)
    found = parse_chains(text)
    for node, value in grads.items():
        if node.label in found:
            assert close(found[node.label][1], value), node.label


def test_explain_ascii_is_plain_ascii_with_the_same_numbers():
    error = backprop_example().error
    unicode, ascii = explain(error), explain(error, ascii=True)
    assert ascii.isascii()
    assert "dE/dL1.n0.w0 = dE/dL1.n0.a * dL1.n0.a/dL1.n0.z * dL1.n0.z/dL1.n0.w0" in ascii
    assert "sigma" in ascii and "σ" in unicode
    assert numbers(to_ascii(unicode)) == numbers(ascii)


def test_explain_names_layers_and_leaves_out_the_legend_on_request():
    text = explain(backprop_example().error, legend=False)
    assert "The notes' names" not in text and "w weight" not in text
    assert "Neuron L1.n0 (output layer 1)" in text and "Neuron L0.n1 (hidden layer 0)" in text
    assert text.index("Neuron L1.n0") < text.index("Neuron L0.n0")  # backwards, as blame flows
    assert "Where the blame starts" in text
    entry = parse_chains(text)["L1.n0.a"]  # ∂E/∂a through E0, e0^2 and e0: 1 × ½ × 2e × (−1)
    assert entry == ([1.0, 0.5, -1.483, -1.0], 0.7414)


def test_explain_picks_parameters_and_says_when_one_does_not_affect_e():
    example = backprop_example()
    w5 = example.model.layers[1].neurons[0].w[0]
    stranger = Value(1.0, label="stranger")
    text = explain(example.error, parameters=[w5, stranger], legend=False)
    assert "∂E/∂L1.n0.w0 = " in text and "∂E/∂L0.n0.w0" not in text
    assert "∂E/∂stranger = 0  (it does not affect E)" in text
    [x0] = [v for v in topological_order(example.error) if v.label == "x0"]
    text = explain(example.error, parameters=[x0], legend=False)  # an input: two paths
    terms, total = parse_sums(text)["x0"]
    assert close(total, 0.003804) and len(terms) == 2  # as the stepper's x0.grad


def test_explain_rejects_what_is_not_a_value():
    with pytest.raises(TypeError, match="explain\\(loss\\): expected a Value, not float: 1.5"):
        explain(1.5)
    with pytest.raises(TypeError, match="explain\\(parameters\\): expected Values, got str"):
        explain(Value(1.0) * 2, parameters=["w"])


# --- chains on other graphs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "activation, op_by_op", [("tanh", False), ("relu", False), ("sigmoid", True)]
)
def test_chains_multiply_to_each_gradient_on_batches_and_deeper_networks(activation, op_by_op):
    model = MLP(2, [3, 2, 1], activation=activation, seed=4, op_by_op=op_by_op)
    for neuron in (n for layer in model.layers for n in layer.neurons):
        neuron.b.data = 0.1  # a relu with all inputs dead would sit on its kink at z = b = 0
    samples = [([0.5, -1.0], 1.0), ([1.5, 0.25], -1.0), ([-0.3, 0.8], 0.5)]

    def loss():
        return sum_values([(model(x) - y) ** 2 for x, y in samples])

    error = loss()
    found = chains(error)
    assert {c.target for c in found} == set(model.parameters())
    layers = [int(c.target.label[1]) for c in found]
    assert layers == sorted(layers, reverse=True)  # output layer first, as blame flows
    error.backward()
    for chain in found:
        assert chain.gradient == chain.target.grad  # the engine's number, exactly
        assert chain.product() == pytest.approx(chain.gradient, rel=1e-9, abs=1e-12)
        assert chain.gradient == pytest.approx(
            numeric_gradient(loss, chain.target), rel=1e-4, abs=1e-7
        )
    text = explain(loss(), legend=False)
    assert "along 3 paths" in text  # a weight used once per sample: blame from each sample


def test_chain_of_a_plain_expression_by_hand():
    w, x, b = Value(-3.0, "w"), Value(2.0, "x"), Value(1.0, "b")
    z = w * x + b
    z.label = "z"
    a = z.tanh()
    by_label = {c.target.label: c for c in chains(a)}
    slope = 1 - a.data**2  # ∂a/∂z
    # E → z → *₂ → w: ∂E/∂z × ∂z/∂(*₂) × ∂(*₂)/∂w; the unlabelled product is named by its
    # op and its position in topological_order(a): w, x, then w * x (2), b, z, a
    assert topological_order(a).index(z.inputs[0]) == 2
    assert by_label["w"].factors() == pytest.approx([slope, 1.0, 2.0])
    assert by_label["w"].gradient == pytest.approx(slope * 2.0)
    assert by_label["b"].factors() == pytest.approx([slope, 1.0])  # ∂E/∂z × ∂z/∂b
    text = explain(a)
    assert "∂E/∂w = ∂E/∂z × ∂z/∂(*₂) × ∂(*₂)/∂w" in text
    assert "dE/dw = dE/dz * dz/d(*_2) * d(*_2)/dw" in explain(a, ascii=True)
    # one naming rule: explain calls each node what the stepper and the step page call it
    names = node_names(a)
    steps = {step.input: describe_step(step, names=names) for step in a.backward_steps()}
    assert "∂E/∂(*₂) += ∂E/∂z × ∂z/∂(*₂)" in steps[z.inputs[0]]


def two_unlabelled_products():
    """E = a·b + b·c with a = 2, b = 3, c = 4: two unlabelled * nodes, both feeding E.

    By hand: ∂E/∂(a·b) = ∂E/∂(b·c) = 1, ∂E/∂a = b = 3, ∂E/∂c = b = 3, ∂E/∂b = a + c = 6.
    """
    a, b, c = Value(2.0, "a"), Value(3.0, "b"), Value(4.0, "c")
    left, right = a * b, b * c
    return left + right, left, right


def test_two_unlabelled_products_never_read_alike():
    error, left, right = two_unlabelled_products()
    order = topological_order(error)
    names = node_names(error)
    # each is its op numbered by its position: the id node{i} of its box in the pictures
    assert names[left] == f"*{'₀₁₂₃₄₅'[order.index(left)]}"
    assert names[right] == f"*{'₀₁₂₃₄₅'[order.index(right)]}"
    assert names[left] != names[right]
    # the stepper and the step page: each product's step names its own node
    lines = {
        (step.node, step.input.label): describe_step(step, names=names)
        for step in error.backward_steps()
    }
    into_b = [lines[left, "b"], lines[right, "b"]]
    assert into_b[0] != into_b[1]
    assert into_b[0].startswith(f"∂E/∂b += ∂E/∂({names[left]}) × ∂({names[left]})/∂b = 1 × 2")
    assert into_b[1].startswith(f"∂E/∂b += ∂E/∂({names[right]}) × ∂({names[right]})/∂b = 1 × 4")
    # explain: blame reaches b along two paths, one through each product, 2 + 4 = 6
    text = explain(error)
    assert f"via {names[left]}: ∂E/∂({names[left]}) × ∂({names[left]})/∂b" in text
    assert f"via {names[right]}: ∂E/∂({names[right]}) × ∂({names[right]})/∂b" in text
    assert "∂E/∂b = 2 + 4 = 6" in text
    # the forward narration too
    assert describe_forward(left, names=names) == f"{names[left]} = a × b = 2 × 3 = 6"
    assert describe_forward(right, names=names) == f"{names[right]} = b × c = 3 × 4 = 12"


# --- one step, one forward node, names -------------------------------------------------------


def test_describe_step_numbers_are_the_steps():
    example = backprop_example()
    names = node_names(example.error)
    for step in example.error.backward_steps():
        text = describe_step(step, names=names)
        match = re.search(r" = (\S+) × (\S+) = (\S+)  \(\S+\.grad = (\S+)\)$", text)
        upstream, local, contribution, after = (float(x.strip("()")) for x in match.groups())
        assert close(upstream, step.upstream) and close(local, step.local_grad)
        assert close(contribution, step.contribution) and close(after, step.input_grad)
        assert text.startswith("∂E/∂")
    assert str(step) == describe_step(step)


def test_describe_forward_recomputes_to_the_value():
    w, x, b = Value(0.15, "w"), Value(0.05, "x"), Value(0.35, "b")
    z = w * x + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    names = node_names(a)
    assert describe_forward(a, names=names) == "E = σ(z) = σ(0.3575) = 0.5884"
    assert describe_forward(z, names=names) == "z = (*₂) + b = 0.0075 + 0.35 = 0.3575"
    assert describe_forward(w) == "w = 0.15"
    assert describe_forward(z * -2.0, ascii=True) == "* = z * -2 = 0.3575 * (-2) = -0.715"


def test_node_names_are_distinct():
    model = MLP(1, [1], activation="tanh", seed=0)
    loss = model([1.0]) + model([2.0])  # the same labels twice
    names = node_names(loss)
    assert len(set(names.values())) == len(names)
    assert names[loss] == "E"
    assert {"L0.n0.z", "L0.n0.z#2", "x0", "x0#2"} <= set(names.values())


def test_role_notes_say_what_a_node_is():
    assert role_note(Value(1.0, "L1.n0.z")) == " (a weighted input z)"
    assert role_note(Value(1.0, "x7")) == " (an input)"
    assert role_note(Value(1.0, "L0.n0.b")) == " (a bias b)"
    assert role_note(Value(1.0, "t0")).startswith(" (a target")
    assert role_note(Value(1.0, "w")) == ""  # a user's own leaf: maybe a parameter


def test_narration_of_the_op_by_op_network_names_each_product():
    error = backprop_example(worked_example(op_by_op=True).model).error
    text = explain(error, legend=False)
    found = parse_chains(text)
    assert found["L1.n0.w0"] == ([0.7414, 0.1868, 0.5933], 0.08217)  # products folded in
