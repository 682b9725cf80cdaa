"""Losses: values against formulas written out here, gradients against hand-derived
formulas and central finite differences, stability at extreme inputs, and bad targets."""

from __future__ import annotations

import math

import pytest
from helpers import numeric_gradient

from autograd_lite import Value, topological_order
from autograd_lite.names import parse
from autograd_lite.nn import (
    MLP,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    half_sum_squared_error,
    hinge_loss,
    l2_penalty,
    mean_squared_error,
    softmax,
    softmax_cross_entropy,
)


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def check(loss, outputs, targets, expected_value, expected_grads):
    """Value and gradients of ``loss`` at ``outputs`` (floats) against the expected ones and
    against central finite differences of the loss's value."""
    values = [Value(o) for o in outputs]
    result = loss(values, targets)
    result.backward()
    assert result.data == pytest.approx(expected_value, rel=1e-9, abs=1e-12)
    for v, expected in zip(values, expected_grads, strict=True):
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)
        numeric = numeric_gradient(lambda: loss(values, targets), v)
        assert v.grad == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_mean_squared_error():
    outputs, targets = [0.5, -1.2, 2.0], [1.0, 0.0, 2.5]
    n = len(outputs)
    value = sum((o - t) ** 2 for o, t in zip(outputs, targets)) / n
    grads = [2 * (o - t) / n for o, t in zip(outputs, targets)]  # d/do mean (o - t)^2
    check(mean_squared_error, outputs, targets, value, grads)


def test_half_sum_squared_error_is_the_notes_error():
    outputs, targets = [0.75, 0.5, -0.25], [1.0, 0.0, 0.5]
    value = 0.5 * sum((t - o) ** 2 for o, t in zip(outputs, targets))
    grads = [-(t - o) for o, t in zip(outputs, targets)]  # dE/do = -(target - output)
    check(half_sum_squared_error, outputs, targets, value, grads)


def test_squared_errors_accept_several_outputs_per_sample():
    outputs = [[Value(1.0), Value(2.0)], [Value(0.0), Value(-1.0)]]
    targets = [[0.0, 2.0], [1.0, 1.0]]
    assert mean_squared_error(outputs, targets).data == pytest.approx((1 + 0 + 1 + 4) / 4)
    assert half_sum_squared_error(outputs, targets).data == pytest.approx((1 + 0 + 1 + 4) / 2)


def test_a_single_output_and_a_target_written_as_a_list():
    assert mean_squared_error(Value(3.0), 1.0).data == 4.0
    assert mean_squared_error([Value(3.0), Value(1.0)], [[1.0], [1.0]]).data == 2.0


def test_binary_cross_entropy_on_probabilities():
    outputs, targets = [0.8, 0.3, 0.6], [1, 0, 0.25]
    n = len(outputs)
    value = -sum(y * math.log(p) + (1 - y) * math.log(1 - p) for p, y in zip(outputs, targets)) / n
    grads = [-(y / p - (1 - y) / (1 - p)) / n for p, y in zip(outputs, targets)]
    check(binary_cross_entropy, outputs, targets, value, grads)


def test_binary_cross_entropy_clips_certain_wrong_answers():
    p = Value(0.0)
    loss = binary_cross_entropy([p], [1])
    assert loss.data == pytest.approx(-math.log(1e-12))  # finite, not log(0)
    loss.backward()
    assert p.grad == 0.0  # clipped: no gradient flows (why the logits version exists)


def test_binary_cross_entropy_with_logits():
    logits, targets = [-2.0, 0.5, 3.0, 0.0], [0, 1, 1, 0.5]
    n = len(logits)
    value = sum(math.log(1 + math.exp(z)) - y * z for z, y in zip(logits, targets)) / n
    grads = [(sigmoid(z) - y) / n for z, y in zip(logits, targets)]  # the famous p - y
    check(binary_cross_entropy_with_logits, logits, targets, value, grads)


@pytest.mark.parametrize(
    "z, y, value", [(-1000.0, 1, 1000.0), (1000.0, 0, 1000.0), (1000.0, 1, 0.0), (-800.0, 0, 0.0)]
)
def test_binary_cross_entropy_with_logits_does_not_overflow(z, y, value):
    logit = Value(z)
    loss = binary_cross_entropy_with_logits([logit], [y])
    loss.backward()
    assert loss.data == pytest.approx(value)
    assert logit.grad == pytest.approx(sigmoid(z) - y if abs(z) < 700 else float(z > 0) - y)


def test_logits_and_probabilities_give_the_same_loss():
    logits, targets = [-1.5, 0.2, 2.5], [0, 1, 1]
    probabilities = [Value(z).sigmoid() for z in logits]
    on_logits = binary_cross_entropy_with_logits([Value(z) for z in logits], targets)
    assert on_logits.data == pytest.approx(binary_cross_entropy(probabilities, targets).data)


def test_hinge_loss():
    scores, targets = [2.0, 0.5, -0.3, 0.2], [1, 1, 1, -1]
    n = len(scores)
    value = sum(max(0.0, 1 - y * s) for s, y in zip(scores, targets)) / n  # 0, .5, 1.3, 1.2
    assert value == pytest.approx(0.75)
    grads = [(-y / n if 1 - y * s > 0 else 0.0) for s, y in zip(scores, targets)]
    check(hinge_loss, scores, targets, value, grads)


def test_softmax_cross_entropy():
    logits, targets = [[1.0, 2.0, 0.5], [0.1, -0.3, 0.2]], [1, 2]
    values = [[Value(z) for z in sample] for sample in logits]
    loss = softmax_cross_entropy(values, targets)
    loss.backward()
    expected = 0.0
    for sample, target, nodes in zip(logits, targets, values):
        total = sum(math.exp(z) for z in sample)
        expected -= math.log(math.exp(sample[target]) / total) / 2
        for k, (z, node) in enumerate(zip(sample, nodes)):
            # d/dz_k of -log softmax_target = softmax_k - [k == target], then / 2 samples
            assert node.grad == pytest.approx((math.exp(z) / total - (k == target)) / 2)
    assert loss.data == pytest.approx(expected)


def test_softmax_cross_entropy_gradients_match_finite_differences():
    flat = [0.3, -1.1, 2.2, 0.0, 0.7, -0.4]
    targets = [2, 0]

    def loss_of(numbers):
        return softmax_cross_entropy([numbers[:3], numbers[3:]], targets)

    values = [Value(z) for z in flat]
    loss_of(values).backward()
    for node in values:
        numeric = numeric_gradient(lambda: loss_of(values), node)
        assert node.grad == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_softmax_cross_entropy_single_sample_and_large_logits():
    assert softmax_cross_entropy([Value(0.0), Value(0.0)], 1).data == pytest.approx(math.log(2))
    big = [Value(1000.0), Value(0.0), Value(-1000.0)]
    loss = softmax_cross_entropy(big, 1)
    loss.backward()
    assert loss.data == pytest.approx(1000.0)
    assert [v.grad for v in big] == pytest.approx([1.0, -1.0, 0.0])


def test_softmax():
    probabilities = softmax([Value(1.0), Value(2.0), Value(3.0)])
    total = math.exp(1) + math.exp(2) + math.exp(3)
    assert [p.data for p in probabilities] == pytest.approx(
        [math.exp(1) / total, math.exp(2) / total, math.exp(3) / total]
    )
    assert sum(p.data for p in softmax([Value(800.0), Value(-800.0)])) == pytest.approx(1.0)


def test_l2_penalty():
    weights = [1.5, -0.5, 2.0]
    check(
        lambda values, _: l2_penalty(values, 0.1),
        weights,
        None,
        0.1 * sum(w * w for w in weights),
        [0.2 * w for w in weights],
    )


def test_sums_are_single_nodes():
    outputs = [Value(float(i)) for i in range(5)]
    loss = mean_squared_error(outputs, [0.0] * 5)
    assert loss.op == "/" and loss.inputs[0].op == "sum" and len(loss.inputs[0].inputs) == 5


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda o: mean_squared_error(o, [1.0]), ValueError, "mean_squared_error: got 2 outputs"),
        (lambda o: mean_squared_error([], []), ValueError, "at least one output"),
        (lambda o: mean_squared_error(o, [1.0, math.nan]), ValueError, "finite"),
        (lambda o: mean_squared_error(o, [1.0, "a"]), TypeError, "must be a number"),
        (lambda o: mean_squared_error(o, [True, 1.0]), TypeError, "bool"),
        (lambda o: mean_squared_error(o, None), TypeError, "targets must be"),
        (
            lambda o: mean_squared_error(["x", "y"], [1, 2]),
            TypeError,
            "outputs must be .* got str 'x'",
        ),
        (lambda o: hinge_loss(o, [1, 0]), ValueError, "hinge_loss: targets must be -1 or \\+1"),
        (lambda o: binary_cross_entropy(o, [1, 0]), ValueError, "probabilities must be in"),
        (lambda o: binary_cross_entropy_with_logits(o, [2, 0]), ValueError, "targets must be"),
        (lambda o: softmax_cross_entropy(o, 2), ValueError, "out of range for 2 logits"),
        (lambda o: softmax_cross_entropy(o, 1.0), TypeError, "class numbers"),
        (lambda o: softmax_cross_entropy([o[0]], 0), ValueError, "at least 2 logits"),
        (lambda o: l2_penalty(o, -1.0), ValueError, "l2_penalty: strength must be >= 0"),
        (lambda o: l2_penalty([], 1.0), ValueError, "at least one parameter"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(call, error, words):
    outputs = [Value(1.5, label="a"), Value(-2.0, label="b")]
    for v in outputs:
        v.grad = 0.25
    with pytest.raises(error, match=words):
        call(outputs)
    assert [(v.data, v.grad, v.inputs) for v in outputs] == [(1.5, 0.25, ()), (-2.0, 0.25, ())]


# --- every loss names its nodes in the notes' notation ------------------------------------


@pytest.mark.parametrize(
    ("loss", "outputs", "targets", "expected"),
    [
        (half_sum_squared_error, [0.7, 0.2], [1.0, 0.0],
         {"t0", "t1", "e0", "e1", "e0^2", "e1^2", "E0", "E1", "E"}),
        (mean_squared_error, [0.7, 0.2], [1.0, 0.0],
         {"t0", "t1", "e0", "e1", "e0^2", "e1^2", "ΣE", "E"}),
        (binary_cross_entropy, [0.7, 0.2], [1, 0], {"t0", "E0", "E1", "ΣE", "E"}),
        (binary_cross_entropy_with_logits, [0.7, -0.2], [1, 0],
         {"t0", "t1", "E0", "E1", "ΣE", "E"}),
        (hinge_loss, [0.7, -0.2], [1, -1], {"t0", "t1", "E0", "E1", "ΣE", "E"}),
        (softmax_cross_entropy, [[0.7, -0.2], [0.1, 0.3]], [0, 1], {"E0", "E1", "ΣE", "E"}),
    ],
)  # fmt: skip
def test_every_loss_names_its_nodes_as_the_notes_do(loss, outputs, targets, expected):
    if loss is softmax_cross_entropy:
        values = [[Value(z) for z in sample] for sample in outputs]
    else:
        values = [Value(o) for o in outputs]
    result = loss(values, targets)
    labels = {node.label for node in topological_order(result) if node.label}
    assert labels == expected
    assert all(parse(label) is not None for label in labels)  # one grammar: names.parse
    assert result.label == "E"


def test_the_steps_of_the_notes_error_name_every_node():
    # before: ∂E/∂sum += ∂E/∂(*) × ∂(*)/∂sum -- an unnamed op in every step of the error
    out = [Value(0.75, "L1.n0.a"), Value(0.77, "L1.n1.a")]
    lines = [str(step) for step in half_sum_squared_error(out, [0.01, 0.99]).backward_steps()]
    assert lines and not any("(*)" in line or "sum" in line or "(-)" in line for line in lines)
    assert lines[0].startswith("∂E/∂E0 += ∂E/∂E × ∂E/∂E0")


def test_the_demo_loss_with_its_l2_penalty_names_every_step():
    # the line, from the demo's loss: ∂E/∂sum += ∂E/∂(*) × ∂(*)/∂sum
    model = MLP(2, [2, 1], seed=0)
    outputs = [model(x) for x in ([0.5, 1.0], [1.0, -1.0])]
    total = hinge_loss(outputs, [1, -1]) + l2_penalty(model.parameters(), 0.01)
    lines = [str(step) for step in total.backward_steps()]
    penalty = [line for line in lines if "P" in line or "^2" in line]
    assert len(penalty) == 2 + 3 * len(model.parameters())  # E→P, P→Σw², then w², w × w
    assert not any("(*)" in line or "sum" in line for line in penalty)
    assert "∂E/∂P += ∂E/∂E × ∂E/∂P = 1 × 1 = 1  (P.grad = 1)" in lines  # the root is E
    assert any(line.startswith("∂E/∂(L0.n0.w0^2) += ∂E/∂(Σw^2)") for line in lines)
