"""``nn.worked_example()`` against Matt Mazur's "A Step by Step Backpropagation Example"
(https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/): its starting
network, then its published numbers, each to every digit the walk-through prints."""

from __future__ import annotations

import re

import pytest

from autograd_lite import topological_order
from autograd_lite.names import Role, parse
from autograd_lite.nn import SGD, WorkedExample, half_sum_squared_error, worked_example
from autograd_lite.nn import worked as worked_module

# Mazur's parameters as he lists them, and where the brief of this project puts them.
STARTING = {
    "w1": ("L0.n0.w0", 0.15), "w2": ("L0.n0.w1", 0.20), "w3": ("L0.n1.w0", 0.25),
    "w4": ("L0.n1.w1", 0.30), "w5": ("L1.n0.w0", 0.40), "w6": ("L1.n0.w1", 0.45),
    "w7": ("L1.n1.w0", 0.50), "w8": ("L1.n1.w1", 0.55),
    "b1": (("L0.n0.b", "L0.n1.b"), 0.35), "b2": (("L1.n0.b", "L1.n1.b"), 0.60),
}  # fmt: skip

# The walk-through's numbers, as printed there (the text keeps its number of digits).
FORWARD = {
    "net_h1": "0.3775",
    "out_h1": "0.593269992",
    "out_h2": "0.596884378",
    "net_o1": "1.105905967",
    "out_o1": "0.75136507",
    "out_o2": "0.772928465",
    "E_o1": "0.274811083",
    "E_o2": "0.023560026",
    "E_total": "0.298371109",
}
GRADIENTS = {"w5": "0.082167041", "w1": "0.000438568"}  # ∂E_total/∂w
UPDATED = {  # after one step of gradient descent, learning rate 0.5
    "w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270", "w8": "0.561370121",
    "w1": "0.149780716", "w2": "0.19956143", "w3": "0.24975114", "w4": "0.29950229",
}  # fmt: skip
LEARNING_RATE = 0.5


def agrees(value: float, printed: str) -> bool:
    """``value`` rounded to as many decimals as ``printed`` has is ``printed``."""
    return round(value, len(printed.split(".")[1])) == float(printed)


def test_agrees_reads_the_printed_digits():
    assert agrees(0.7513650695, "0.75136507") and not agrees(0.7513650695, "0.7513650")
    assert agrees(0.5113012702, "0.511301270") and not agrees(0.51130128, "0.511301270")


def labelled(example: WorkedExample) -> dict[str, float]:
    """The network's and the error's nodes after a forward pass, under Mazur's names."""
    model, inputs, targets = example
    error = half_sum_squared_error(model(inputs), targets)
    (h1, h2), (o1, o2) = (layer.neurons for layer in model.layers)
    by_label = {node.label: node.data for node in topological_order(error)}
    return {
        "net_h1": h1.z.data, "out_h1": h1.a.data, "out_h2": h2.a.data,
        "net_o1": o1.z.data, "out_o1": o1.a.data, "out_o2": o2.a.data,
        "E_o1": by_label["E0"], "E_o2": by_label["E1"], "E_total": error.data,
    }  # fmt: skip


def test_the_network_and_sample_are_the_published_ones():
    model, inputs, targets = worked_example()
    assert (inputs, targets) == ([0.05, 0.10], [0.01, 0.99])
    assert worked_module.LEARNING_RATE == LEARNING_RATE  # the stepper and export use it
    assert (model.nin, model.nouts) == (2, [2, 2])
    assert [layer.activation for layer in model.layers] == ["sigmoid", "sigmoid"]
    values = {p.label: p.data for p in model.parameters()}
    expected = {}
    for labels, value in STARTING.values():
        for label in (labels,) if isinstance(labels, str) else labels:
            expected[label] = value
    assert values == expected
    ours = {name: labels for name, (labels, _) in STARTING.items()}
    for label, name in worked_module.MAZUR_NAMES.items():
        assert label == ours[name] or label in ours[name], (label, name)


def test_the_forward_pass_and_the_error_give_every_published_digit():
    numbers = labelled(worked_example())
    wrong = {name: (numbers[name], printed) for name, printed in FORWARD.items()}
    wrong = {name: pair for name, pair in wrong.items() if not agrees(*pair)}
    assert not wrong


@pytest.mark.parametrize("op_by_op", [False, True])
def test_the_gradients_and_one_step_of_gradient_descent_give_every_published_digit(op_by_op):
    example = worked_example(op_by_op=op_by_op)
    model, inputs, targets = example
    error = half_sum_squared_error(model(inputs), targets)
    error.backward()
    by_name = {worked_module.MAZUR_NAMES[p.label]: p for p in model.parameters()}
    for name, printed in GRADIENTS.items():
        assert agrees(by_name[name].grad, printed), (name, by_name[name].grad, printed)
    # Mazur keeps the biases fixed: step the weights only, as he does
    weights = [p for p in model.parameters() if parse(p.label).role is Role.WEIGHT]
    biases = {p.label: p.data for p in model.parameters() if p not in weights}
    SGD(weights, lr=LEARNING_RATE).step()
    for name, printed in UPDATED.items():
        assert agrees(by_name[name].data, printed), (name, by_name[name].data, printed)
    assert {p.label: p.data for p in model.parameters() if p not in weights} == biases
    # His error after the step, 0.291027924, was computed from rounded numbers along the
    # way: the exact one is 0.291027774, the same to 6 digits.
    after = half_sum_squared_error(model(inputs), targets).data
    assert agrees(after, "0.291028") and not agrees(after, "0.291027924")


def test_every_call_builds_a_fresh_network():
    first, second = worked_example(), worked_example()
    first.model.layers[1].neurons[0].w[0].data = 9.0
    first.inputs[0] = 9.0
    assert second.model.layers[1].neurons[0].w[0].data == 0.40
    assert worked_example().inputs == [0.05, 0.10]


def test_op_by_op_must_be_a_bool():
    with pytest.raises(TypeError, match="worked_example: op_by_op must be True or False, got"):
        worked_example(op_by_op="yes")


def test_the_docstring_table_agrees_with_the_network():
    doc = worked_example.__doc__
    assert "A Step by Step Backpropagation Example" in doc and worked_module.URL in doc
    # rows like "w5 (h1 -> o1)       L1.n0.w0              0.40"
    rows = re.findall(r"^\s+([wb]\d) \([^)]*\)\s+(\S+(?:, \S+)?)\s+(\d\.\d+)$", doc, re.M)
    assert len(rows) == len(STARTING)
    for name, labels, value in rows:
        expected_labels, expected_value = STARTING[name]
        assert labels == ", ".join((expected_labels,) if name[0] == "w" else expected_labels)
        assert float(value) == expected_value
