"""detect_anomaly(): the first NaN or infinite result or gradient raises an error naming the
op, its inputs and labels, and the source line that made the node -- and nothing else does."""

from __future__ import annotations

import inspect
import math

import pytest

from autograd_lite import AnomalyError, Value, detect_anomaly, no_grad
from autograd_lite.stepping import backprop_example


def next_line():
    """'this_file:line' of the line after the caller's."""
    frame = inspect.currentframe().f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno + 1}"


def test_an_infinite_result_names_op_inputs_labels_and_line():
    big = Value(1e308, label="big")
    ten = Value(10.0, label="ten")
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        line = next_line()
        big * ten
    message = str(caught.value)
    assert message.startswith("* gave inf from inputs big=1e+308, ten=10.0")
    assert f"(created at {line})" in message


def test_a_nan_result_is_caught_and_anomaly_error_is_a_value_error():
    infinite = Value(math.inf, label="infinite")
    with detect_anomaly(), pytest.raises(ValueError, match="\\* gave nan from inputs infinite=inf"):
        infinite * 0.0
    assert issubclass(AnomalyError, ValueError)


def test_a_nan_gradient_is_caught_before_any_gradient_changes():
    w = Value(0.0, label="w")
    w.grad = 2.5  # an accumulated gradient that must survive
    with detect_anomaly():
        square = w * w
        square.label = "square"
        line = next_line()
        norm = square.sqrt()
        with pytest.raises(AnomalyError) as caught:
            norm.backward()
    message = str(caught.value)
    # d sqrt(s)/ds = inf at s = 0: the first non-finite contribution, from the sqrt node
    assert message.startswith("backward through sqrt gave a gradient of inf for input square=0.0")
    assert f"node created at {line}" in message
    assert (w.grad, square.grad, norm.grad) == (2.5, 0.0, 0.0)


def test_outside_detect_anomaly_the_same_graph_runs_silently():
    w = Value(0.0, label="w")
    (w * w).sqrt().backward()
    assert math.isnan(w.grad)  # inf × 0: NaN, with no error
    assert (Value(1e308) * 10).data == math.inf


def test_a_healthy_network_under_detect_anomaly_is_unchanged():
    checked, plain = backprop_example(), backprop_example()
    with detect_anomaly():
        checked.forward()
        checked.error.backward()
        list(checked.forward().backward_steps())  # steps too
    plain.error.backward()
    list(plain.forward().backward_steps())
    for p, q in zip(checked.model.parameters(), plain.model.parameters()):
        assert p.grad == q.grad


def test_detect_anomaly_is_scoped_and_works_under_no_grad():
    with detect_anomaly(), no_grad():
        with pytest.raises(AnomalyError, match="\\* gave inf from inputs big"):
            Value(1e308, label="big") * 10
    Value(1e308) * 10  # after the block: no error


# --- numbers that are not finite: NaN hidden by relu, false alarm for constants, NaN seeds


def test_relu_of_nan_is_caught_not_hidden():
    x = Value(math.nan, label="x")
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"relu gave nan from inputs x=nan"):
        x.relu()


def test_a_nan_leaf_is_caught_at_its_first_use():
    x = Value(math.nan, label="x")  # allowed (documented): the first op that uses it says so
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"\* gave nan from inputs x=nan, 2\.0"),
    ):
        x * 2.0


def test_zero_to_a_learned_power_is_no_false_alarm():
    # 0.0 ** w: d/d(base) = inf belongs to the constant 0.0, which nobody reads.
    w = Value(0.5, label="w")
    with detect_anomaly():
        y = 0.0**w + w * 0.0**2.0
        y.backward()
    assert y.data == 0.0 and w.grad == 0.0  # PyTorch float64: 0.0 too


def test_an_inf_gradient_of_a_leaf_you_made_is_still_an_anomaly():
    base, w = Value(0.0, label="base"), Value(0.5, label="w")
    with detect_anomaly():
        y = base**w
        with pytest.raises(AnomalyError, match=r"gradient of inf for input base=0\.0"):
            y.backward()
    assert base.grad == 0.0 and w.grad == 0.0  # raised before any change


def test_an_inf_gradient_through_a_constant_into_the_graph_is_still_an_anomaly():
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = (x * 1.0).sqrt()  # the inf slope reaches x through an intermediate node
        with pytest.raises(AnomalyError, match="gradient of inf"):
            y.backward()


def test_a_non_finite_seed_is_an_anomaly_before_any_change():
    x = Value(2.0, label="x")
    with detect_anomaly():
        y = x * 3.0
        for seed in (math.nan, math.inf):
            with pytest.raises(AnomalyError, match=r"backward: the seed is (nan|inf)"):
                y.backward(seed=seed)
            with pytest.raises(AnomalyError, match=r"the seed is"):
                y.backward_steps(seed=seed)
    assert x.grad == 0.0
