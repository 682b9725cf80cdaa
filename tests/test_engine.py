"""The engine: every operation's value and gradient against hand-derived formulas and
central finite differences, backward semantics, errors, memory, higher-order gradients."""

from __future__ import annotations

import asyncio
import copy
import gc
import math
import pickle
import re
import threading
import weakref

import pytest
from helpers import needs_extra

from autograd_lite import (
    Value,
    grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
    sum_values,
    topological_order,
    weighted_sum,
)
from autograd_lite.engine import data_of
from autograd_lite.modes import SPECIAL_MODES, Mode, changed_mode


def numeric_derivative(f, xs, i, eps=1e-6):
    """Central finite difference of f (a function of floats) in its i-th argument."""
    up = list(xs)
    down = list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


# op -> (build the node from Values, the same function on floats, hand-derived partials)
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, lambda x: [-1.0]),
    "exp": (lambda x: x.exp(), math.exp, lambda x: [math.exp(x)]),
    "log": (lambda x: x.log(), math.log, lambda x: [1 / x]),
    "sqrt": (lambda x: x.sqrt(), math.sqrt, lambda x: [0.5 / math.sqrt(x)]),
    "tanh": (lambda x: x.tanh(), math.tanh, lambda x: [1 - math.tanh(x) ** 2]),
    "sigmoid": (
        lambda x: x.sigmoid(),
        lambda x: 1 / (1 + math.exp(-x)),
        lambda x: [math.exp(-x) / (1 + math.exp(-x)) ** 2],
    ),
    "relu": (lambda x: x.relu(), lambda x: max(0.0, x), lambda x: [1.0 if x > 0 else 0.0]),
    "abs": (lambda x: abs(x), abs, lambda x: [1.0 if x > 0 else -1.0]),
    "leaky_relu": (
        lambda x: x.leaky_relu(0.1),
        lambda x: x if x > 0 else 0.1 * x,
        lambda x: [1.0 if x > 0 else 0.1],
    ),
}
BINARY = {
    "+": (lambda x, y: x + y, lambda x, y: x + y, lambda x, y: [1.0, 1.0]),
    "-": (lambda x, y: x - y, lambda x, y: x - y, lambda x, y: [1.0, -1.0]),
    "*": (lambda x, y: x * y, lambda x, y: x * y, lambda x, y: [y, x]),
    "/": (lambda x, y: x / y, lambda x, y: x / y, lambda x, y: [1 / y, -x / y**2]),
    "**": (
        lambda x, y: x**y,
        lambda x, y: x**y,
        lambda x, y: [y * x ** (y - 1), x**y * math.log(x)],
    ),
}
UNARY_POINTS = [-1.7, -0.3, 0.4, 2.2]
POSITIVE_ONLY = {"log", "sqrt"}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("point", UNARY_POINTS)
def test_unary_value_and_gradient(name, point):
    if name in POSITIVE_ONLY and point <= 0:
        point = -point
    build, on_floats, partials = UNARY[name]
    x = Value(point, label="x")
    y = build(x)
    assert y.data == pytest.approx(on_floats(point), rel=1e-12)
    assert y.local_grads[0] == pytest.approx(partials(point)[0], rel=1e-9)
    y.backward()
    assert x.grad == pytest.approx(partials(point)[0], rel=1e-9)
    assert x.grad == pytest.approx(numeric_derivative(on_floats, [point], 0), rel=1e-6)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("point", [(1.5, -0.5), (0.7, 2.0), (3.0, 0.25)])
def test_binary_value_and_gradients(name, point):
    build, on_floats, partials = BINARY[name]
    x, y = Value(point[0], label="x"), Value(point[1], label="y")
    out = build(x, y)
    assert out.data == pytest.approx(on_floats(*point), rel=1e-12)
    assert out.inputs == (x, y)
    out.backward()
    assert [x.grad, y.grad] == pytest.approx(partials(*point), rel=1e-9)
    for i, g in enumerate([x.grad, y.grad]):
        assert g == pytest.approx(numeric_derivative(on_floats, list(point), i), rel=1e-6)


def test_numbers_on_either_side():
    x = Value(3.0, label="x")
    assert [(2 + x).data, (x + 2).data, (2 - x).data, (x - 2).data] == [5.0, 5.0, -1.0, 1.0]
    assert [(2 * x).data, (x * 2).data, (6 / x).data, (x / 2).data] == [6.0, 6.0, 2.0, 1.5]
    assert [(2**x).data, (x**2).data] == [8.0, 9.0]
    y = 2**x  # d(2^x)/dx = 2^x ln 2
    y.backward()
    assert x.grad == pytest.approx(8 * math.log(2))


def test_pow_with_value_exponent_gives_both_gradients():
    base, exponent = Value(2.0, label="base"), Value(3.0, label="exponent")
    out = base**exponent
    out.backward()
    assert out.data == 8.0
    assert base.grad == pytest.approx(12.0)  # 3 * 2^2
    assert exponent.grad == pytest.approx(8 * math.log(2))


def test_pow_corner_cases_have_defined_slopes():
    zero = Value(0.0)
    assert (zero**0.5).local_grads[0] == math.inf  # vertical tangent
    assert (zero**0).local_grads[0] == 0.0  # x^0 is constant
    assert (zero**2).local_grads == (0.0, 0.0)
    negative = Value(-2.0)
    cube = negative**3
    assert cube.data == -8.0 and cube.local_grads[0] == pytest.approx(12.0)


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0
    small = Value(-745.0).sigmoid()
    assert 0.0 <= small.data < 1e-300


def test_relu_and_abs_take_zero_slope_at_zero():
    assert Value(0.0).relu().local_grads == (0.0,)
    assert abs(Value(0.0)).local_grads == (0.0,)


def test_leaky_relu_slope_is_learnable():
    x, slope = Value(-2.0), Value(0.1)
    out = x.leaky_relu(slope)
    out.backward()
    assert out.data == pytest.approx(-0.2)
    assert x.grad == pytest.approx(0.1)
    assert slope.grad == pytest.approx(-2.0)


def test_sum_values_and_weighted_sum():
    a, b = Value(1.5), Value(-2.0)
    s = sum_values([a, b, 4.0])
    s.backward()
    assert s.data == 3.5 and a.grad == 1.0 and b.grad == 1.0

    w = [Value(0.15, "w1"), Value(0.20, "w2")]
    x = [Value(0.05, "x1"), Value(0.10, "x2")]
    bias = Value(0.35, "b")
    z = weighted_sum(w, x, bias)
    z.backward()
    assert z.data == pytest.approx(0.15 * 0.05 + 0.20 * 0.10 + 0.35)
    assert [v.grad for v in w] == pytest.approx([0.05, 0.10])  # dz/dw_i = a_i
    assert [v.grad for v in x] == pytest.approx([0.15, 0.20])  # dz/da_i = w_i
    assert bias.grad == 1.0


def test_weighted_sum_rejects_mismatched_lengths_and_non_numbers():
    with pytest.raises(ValueError, match="weighted_sum"):
        weighted_sum([Value(1.0)], [1.0, 2.0], Value(0.0))
    with pytest.raises(TypeError, match="weighted_sum.*str"):
        weighted_sum([Value(1.0)], ["2"], Value(0.0))
    with pytest.raises(TypeError, match="weighted_sum.*NoneType"):
        weighted_sum([None], [2.0], Value(0.0))


def test_node_records_op_inputs_and_local_grads():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    assert (c.op, c.inputs, c.local_grads) == ("*", (a, b), (-3.0, 2.0))
    assert (a.op, a.inputs, a.local_grads, a.grad) == ("", (), (), 0.0)
    assert repr(a) == "Value(label='a', data=2, grad=0)"
    c.grad = 0.25
    assert repr(c) == "Value(op='*', data=-6, grad=0.25)"
    assert repr(Value(2.0)) == "Value(data=2, grad=0)"


# --- backward -----------------------------------------------------------------------------


def test_node_reuse_accumulates():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_micrograd_readme_example():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert round(g.data, 4) == 24.7041
    assert round(a.grad, 4) == 138.8338
    assert round(b.grad, 4) == 645.5773


def test_second_backward_accumulates_leaves_and_overwrites_intermediates():
    x = Value(3.0, label="x")
    square = x * x
    y = square * x  # x^3
    y.backward()
    y.backward()
    assert x.grad == 54.0  # 27 + 27, not micrograd's 72
    assert square.grad == 3.0  # d(square*x)/d(square) = x, from the latest call only
    assert y.grad == 1.0


def test_backward_seed_and_leaf_root():
    x = Value(2.0)
    y = x * x
    y.backward(seed=0.5)
    assert x.grad == 2.0
    x.backward()  # a leaf's own gradient accumulates its seed
    assert x.grad == 3.0
    with pytest.raises(TypeError, match="seed"):
        y.backward(seed="1")


def test_deep_chain_without_recursion():
    a = Value(1.0, label="a")
    x = a
    n = 200_000
    for _ in range(n):
        x = x + a
    x.backward()
    assert a.grad == n + 1
    order = topological_order(x)
    assert len(order) == n + 1
    del x, order  # freeing a deep chain must not overflow the C stack either


def test_dropped_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        w = Value(0.5, label="w")
        hidden = (w * 2.0).tanh()
        loss = (hidden - 1.0) ** 2
        loss.backward()
        for _ in loss.backward_steps():
            pass
        hidden_ref, loss_ref = weakref.ref(hidden), weakref.ref(loss)
        del hidden, loss
        assert hidden_ref() is None and loss_ref() is None
        assert w.grad != 0.0
    finally:
        gc.enable()


def test_topological_order_puts_inputs_first():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    position = {node: i for i, node in enumerate(order)}
    assert order[-1] is e and len(order) == 5  # a, b, c, d, e: each once
    for node in order:
        for input_ in node.inputs:
            assert position[input_] < position[node]


# --- no_grad, detach -------------------------------------------------------------------------


def test_no_grad_records_nothing_and_nests():
    x = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            y = x * x
        z = x + 1
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert (y.data, y.inputs, y.op) == (4.0, (), "")
    assert z.inputs == ()
    assert (x * x).inputs == (x, x)


def test_no_grad_is_local_to_a_thread():
    x = Value(2.0)
    inside = threading.Event()
    release = threading.Event()
    results = {}

    def quiet():
        with no_grad():
            inside.set()
            release.wait(5)
            results["quiet"] = x * x

    thread = threading.Thread(target=quiet)
    thread.start()
    inside.wait(5)
    results["loud"] = x * x  # another thread's no_grad() must not affect this one
    release.set()
    thread.join()
    assert results["loud"].inputs == (x, x)
    assert results["quiet"].inputs == ()


def test_an_asyncio_task_keeps_the_no_grad_it_was_created_in_after_the_block_ends():
    # The task's context holds the no_grad mode; record() must still find it, though the
    # block that made it has ended before the task runs.
    x = Value(2.0)

    async def main():
        with no_grad():
            task = asyncio.ensure_future(square())
        outside = x * x
        return outside, await task

    async def square():
        return x * x

    outside, inside = asyncio.run(main())
    assert outside.inputs == (x, x)
    assert inside.inputs == ()
    assert SPECIAL_MODES == []


def test_no_mode_is_counted_once_its_blocks_end_even_on_error():
    with pytest.raises(KeyError), no_grad(), no_grad():
        assert len(SPECIAL_MODES) == 2
        raise KeyError("inside")
    with changed_mode(observe=print):
        assert len(SPECIAL_MODES) == 1
        with changed_mode(record=True):  # still observing: special
            assert len(SPECIAL_MODES) == 2
    assert SPECIAL_MODES == []
    assert (Value(2.0) * 3.0).op == "*"


def test_a_copied_mode_is_counted_while_it_lives():
    # A copy that took the original's entry away would make record() skip a live no_grad.
    original = Mode(record=False)
    copies = [copy.copy(original), copy.deepcopy(original), pickle.loads(pickle.dumps(original))]
    assert len(SPECIAL_MODES) == 4 and [c.record for c in copies] == [False] * 3
    del copies
    assert len(SPECIAL_MODES) == 1
    del original
    assert SPECIAL_MODES == []


def test_detach_is_a_leaf_with_the_same_data():
    x = Value(2.0, label="x")
    y = (x * 3).detach()
    z = y * x
    z.backward()
    assert (y.data, y.inputs) == (6.0, ())
    assert x.grad == 6.0  # only through the direct path


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1.0", None, 1 + 2j, [1.0], True])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_value_rejects_another_value_and_bad_labels():
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_value_accepts_ints_and_stores_floats():
    assert type(Value(3).data) is float


@pytest.mark.parametrize(
    ("make", "error", "op"),
    [
        (lambda a: a.log(), ValueError, "log"),
        (lambda a: (a - 1.0).log(), ValueError, "log"),
        (lambda a: (a - 2.0).sqrt(), ValueError, "sqrt"),
        (lambda a: a / 0, ZeroDivisionError, "/"),
        (lambda a: a / (a - a), ZeroDivisionError, "/"),
        (lambda a: (a * 0) ** -1, ZeroDivisionError, r"\*\*"),
        (lambda a: (-a) ** 0.5, ValueError, r"\*\*"),
        (lambda a: (a * 1000).exp(), OverflowError, "exp"),
        (lambda a: (a * 1e200) ** 2.0, OverflowError, r"\*\*"),
    ],
)
def test_domain_errors_name_the_op_and_leave_the_graph_alone(make, error, op):
    a = Value(0.0, label="a") if op == "log" else Value(1.0, label="a")
    a.grad = 0.25
    before = (a.data, a.grad, a.inputs, a.local_grads, a.op)
    with pytest.raises(error, match=op) as caught:
        make(a)
    assert before == (a.data, a.grad, a.inputs, a.local_grads, a.op)
    assert "got" in str(caught.value)


def test_error_messages_name_labels_and_values():
    a = Value(-2.0, label="a")
    with pytest.raises(ValueError, match=r"log: needs x > 0; got a=-2\.0"):
        a.log()
    with pytest.raises(
        ValueError, match=r"negative base to a non-integer power; got a=-2\.0, 0\.5"
    ):
        a**0.5


@pytest.mark.parametrize("other", ["x", None, [1.0], 1j])
def test_operands_must_be_numbers(other):
    # Nobody handles Value op other: Python's TypeError names the operator and both types
    # (for * with a str or list: "can't multiply sequence by non-int of type 'Value'").
    x = Value(1.0)
    for op, apply in [
        ("+", lambda: x + other), ("*", lambda: x * other), ("-", lambda: x - other),
        ("/", lambda: x / other), ("**", lambda: x**other), ("+", lambda: other + x),
    ]:  # fmt: skip
        with pytest.raises(TypeError, match="Value") as caught:
            apply()
        message = str(caught.value)
        assert op in message or "sequence" in message or "concatenate" in message, message


def test_operators_return_not_implemented_so_the_other_operand_can_answer():
    class Scaled:  # a type the engine does not know, which knows how to handle a Value
        def __rmul__(self, other):
            return ("rmul", other.data)

        def __radd__(self, other):
            return ("radd", other.data)

        def __gt__(self, other):  # Value < Scaled is asked as Scaled > Value
            return True

    x = Value(2.0)
    assert x * Scaled() == ("rmul", 2.0)
    assert x + Scaled() == ("radd", 2.0)
    assert (x < Scaled()) is True
    # str could answer from the right (it has __radd__-like __rmul__): Python asks it next
    assert x.__mul__("abc") is NotImplemented
    assert x.__lt__("abc") is NotImplemented


@pytest.mark.parametrize("op", ["+", "*", "-", "/", "**"])
def test_an_operand_nobody_can_handle_is_a_clear_type_error(op):
    x = Value(2.0, label="x")
    message = rf"^{re.escape(op)}: unsupported operand NoneType None; expected a Value"
    with pytest.raises(TypeError, match=message):
        eval(f"x {op} None")  # noqa: S307
    assert x.grad == 0.0 and x.data == 2.0


def test_value_times_numpy_array_works_like_the_reverse():
    np = needs_extra("numpy")
    forward, reverse = Value(2.0) * np.array([1, 2]), np.array([1, 2]) * Value(2.0)
    assert [v.data for v in forward] == [v.data for v in reverse] == [2.0, 4.0]
    assert (Value(2.0) * np.float64(3.0)).data == 6.0  # a NumPy scalar is a number


def test_operand_of_a_named_op_is_still_a_clear_type_error():
    with pytest.raises(TypeError, match=r"leaky_relu: unsupported operand str 'x'"):
        Value(1.0).leaky_relu("x")
    with pytest.raises(TypeError, match=r"sum: unsupported operand NoneType None"):
        sum_values([Value(1.0), None])


def test_assigning_a_non_number_to_data_is_refused_where_it_happens():
    w = Value(0.5, label="w")
    for bad in ("abc", None, True, [1.0], 1j):
        with pytest.raises(TypeError, match=r"Value 'w': setting \.data: the new data must be"):
            w.data = bad
        assert w.data == 0.5  # unchanged
    w.data = 3  # an int becomes a float
    assert w.data == 3.0 and type(w.data) is float
    w.data = math.inf  # like Value(inf): allowed (detect_anomaly() catches its use)
    assert w.data == math.inf
    node = w * 2.0
    node.data = 1.5  # any node, not only leaves
    assert node.data == 1.5


def re_escape(text):
    import re

    return re.escape(text)


def test_failed_operation_mid_graph_changes_no_gradient():
    x = Value(0.5, label="x")
    y = (x * x).tanh()
    y.backward()
    snapshot = (x.grad, y.grad, y.inputs[0].grad)
    with pytest.raises(ValueError, match="log"):
        (y - 1.0).log()
    assert snapshot == (x.grad, y.grad, y.inputs[0].grad)


# --- higher-order gradients ------------------------------------------------------------------


def test_grad_does_not_touch_dot_grad():
    x, y = Value(2.0), Value(5.0)
    out = x * y + x
    assert grad(out, [x, y]) == [6.0, 2.0]
    assert (x.grad, y.grad, out.grad) == (0.0, 0.0, 0.0)


def test_grad_of_unreachable_input_is_zero():
    x, unrelated = Value(2.0), Value(1.0)
    assert grad(x * x, [unrelated]) == [0.0]
    [g] = grad(x * x, [unrelated], create_graph=True)
    assert isinstance(g, Value) and g.data == 0.0


def test_second_derivative_of_tanh():
    x = Value(0.5, label="x")
    [first] = grad(x.tanh(), [x], create_graph=True)
    [second] = grad(first, [x])
    t = math.tanh(0.5)
    assert first.data == pytest.approx(1 - t * t)
    assert second == pytest.approx(-2 * t * (1 - t * t))  # d/dx (1 - tanh^2) = -2 tanh sech^2


def test_third_derivative_of_a_polynomial():
    x = Value(2.0)
    y = x**4 - 3 * x**2
    [d1] = grad(y, [x], create_graph=True)
    [d2] = grad(d1, [x], create_graph=True)
    [d3] = grad(d2, [x])
    assert (d1.data, d2.data, d3) == pytest.approx((4 * 8 - 12, 12 * 4 - 6, 24 * 2))


def test_newtons_method_finds_a_root():
    """x_{k+1} = x_k - f(x)/f'(x) for f(x) = x^3 - 2x - 5 (Newton's own example)."""
    x = 2.0
    for _ in range(6):
        v = Value(x, label="x")
        f = v**3 - 2 * v - 5
        [slope] = grad(f, [v])
        x -= f.data / slope
    assert x == pytest.approx(2.0945514815423265, abs=1e-12)


def test_newtons_method_for_a_minimum_uses_second_derivative():
    """Minimise g(x) = x^4 - 3x^2 + x with x <- x - g'(x)/g''(x)."""
    x = 1.5
    for _ in range(8):
        v = Value(x)
        g = v**4 - 3 * v**2 + v
        [slope] = grad(g, [v], create_graph=True)
        [curvature] = grad(slope, [v])
        x -= slope.data / curvature
    assert 4 * x**3 - 6 * x + 1 == pytest.approx(0.0, abs=1e-12)
    assert 12 * x**2 - 6 > 0  # a minimum


def test_grad_rejects_non_values():
    with pytest.raises(TypeError, match="grad"):
        grad(3.0, [Value(1.0)])
    with pytest.raises(TypeError, match="grad"):
        grad(Value(1.0), [1.0])


# --- gradcheck ---------------------------------------------------------------------------------


def test_gradcheck_passes_on_correct_gradients():
    result = gradcheck(lambda a, b: (a * b).sigmoid() + a.exp() / b, [Value(0.3, "a"), 1.7])
    assert result
    assert [row[0] for row in result.rows] == ["a", "input 1"]
    assert "passed" in str(result)


def test_gradcheck_reports_the_worst_mismatch_by_label():
    def leaky(a, b):  # a*b computed outside the graph for `a`: backward misses d/da
        return Value(a.data * b.data) + a * 0.0 + b * 2.0

    a, b = Value(0.5, "a"), Value(3.0, "b")
    result = gradcheck(leaky, [a, b])
    assert not result
    assert result.worst.startswith("a:")
    assert "FAILED" in str(result)
    assert (a.grad, b.grad) == (0.0, 0.0)  # the caller's inputs are untouched


def test_comparisons_look_at_data_and_refuse_non_numbers():
    assert Value(1.0) < 2 and Value(3.0) >= Value(3.0) and not Value(1.0) > Value(2.0)
    with pytest.raises(TypeError, match="'<' not supported between instances of 'Value' and 'str'"):
        Value(1.0) < "a"  # noqa: B015 (the comparison is the test)


def test_n_ary_and_parametrised_ops_name_themselves_on_bad_operands():
    with pytest.raises(TypeError, match="sum: unsupported operand str"):
        sum_values([1.0, "a"])
    with pytest.raises(TypeError, match="leaky_relu: unsupported operand str"):
        Value(1.0).leaky_relu("x")


def test_gradcheck_needs_a_positive_step():
    with pytest.raises(ValueError, match="gradcheck: eps"):
        gradcheck(lambda a: a * a, [1.0], eps=0)


def test_topological_order_can_stop_at_chosen_nodes():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    hidden = a * b
    hidden.label = "hidden"
    out = hidden + a
    order = topological_order(out, stop=lambda node: node.label == "hidden")
    assert [v.label or v.op for v in order] == ["hidden", "a", "+"]  # b lies behind the stop


def test_topological_order_is_the_depth_first_order_whatever_walks_came_before():
    # The walk marks the nodes it meets; marks left by earlier walks (of a part of the
    # graph, of the whole, stopped or not, abandoned half-way) must not change the next.
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    for node, label in ((c, "c"), (d, "d"), (e, "e")):
        node.label = label
    expected = ["a", "b", "c", "d", "e"]  # inputs in order, depth first: by hand
    assert [v.label for v in topological_order(e)] == expected
    topological_order(c)
    topological_order(e, stop=lambda node: node is d)
    topological_order(e, leaves=False)
    assert [v.label for v in topological_order(e)] == expected
    assert [v.label for v in topological_order(e, leaves=False)] == ["c", "d", "e"]
    assert [v.label for v in topological_order(d)] == ["a", "b", "c", "d"]
    assert [(v.data, v.grad) for v in topological_order(e)] == [
        (1.0, 0.0),
        (2.0, 0.0),
        (2.0, 0.0),
        (3.0, 0.0),
        (6.0, 0.0),
    ]  # a walk reads the graph: no data or gradient changes
    e.backward()
    assert [v.grad for v in topological_order(e)] == [12.0, 5.0, 5.0, 2.0, 1.0]
    # a walk leaves the gradients alone too (by hand: de/dd = c = 2, de/dc = d + c = 5,
    # de/da = 5b + 2 = 12, de/db = 5a = 5)


def test_topological_order_asks_stop_once_per_node():
    x = Value(1.0, label="x")
    shared = x * 2.0
    root = shared * shared + shared
    asked: list[Value] = []
    topological_order(root, stop=lambda node: asked.append(node) or False)
    assert len(asked) == len(set(asked)) == len(topological_order(root))


def test_every_way_through_the_chain_rule_leaves_no_reference_cycle():
    from autograd_lite import detect_anomaly, grad
    from autograd_lite.nn import MLP, SGD
    from autograd_lite.training import fit

    def with_a_hook(loss, w):
        handle = w.register_hook(lambda node: None)
        loss.backward()
        handle.remove()

    ways = [
        lambda loss, w: loss.backward(),
        lambda loss, w: loss.backward(break_on="w", on_break=lambda step: None),
        lambda loss, w: next(iter(loss.backward_steps())),  # stopped half-way
        lambda loss, w: grad(loss, [w], create_graph=True),
        with_a_hook,
    ]
    gc.collect()
    gc.disable()
    try:
        for number, way in enumerate(ways):
            w = Value(0.5, label="w")
            with detect_anomaly():
                hidden = (w * 2.0).tanh()
            loss = (hidden - 1.0) ** 2
            way(loss, w)
            hidden_ref, loss_ref = weakref.ref(hidden), weakref.ref(loss)
            del hidden, loss
            assert hidden_ref() is None and loss_ref() is None, number
        model = MLP(2, [3, 1], seed=0)
        fit(model, [[0.0, 1.0]], [1.0], optimizer=SGD(model.parameters(), 0.1), epochs=2,
            progress=False)  # fmt: skip
        z_ref = weakref.ref(model.layers[0].neurons[0].z)
        model([1.0, 0.0])  # the next call replaces the nodes the model remembers
        assert z_ref() is None
    finally:
        gc.enable()


def test_nodes_without_gradient_are_skipped_only_when_that_changes_nothing():
    from autograd_lite.nn import MLP

    def gradients(stepped):
        model = MLP(2, [8, 8, 1], activation="relu", seed=3)
        loss = sum((model([x, -x]) - 1.0) ** 2 for x in (-2.0, -0.5, 0.5, 2.0))
        if stepped:  # the watched path applies every edge, zero or not
            list(loss.backward_steps())
        else:
            loss.backward()
        return [p.grad for p in model.parameters()]

    plain, stepped = gradients(False), gradients(True)
    assert plain == stepped  # bit for bit
    assert any(g == 0.0 for g in plain)  # dead relus: there was something to skip
    w = Value(0.0, "w")
    y = (w * w).sqrt() * 0.0  # d sqrt/ds = inf at 0, reached by an upstream gradient of 0
    y.backward()
    assert math.isnan(w.grad)  # inf × 0 is NaN: an infinite slope is never skipped


# --- NaN and infinities through every op (PyTorch float64 values, by hand; docs/engine.md) ---
NAN, INF = math.nan, math.inf


def same(a, b):
    """Equal floats, NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize(
    "op, x, value, slope",
    [
        # NaN goes through every activation, and so does its slope: nothing downstream of a
        # NaN looks healthy. (PyTorch's slopes at NaN: relu 1, abs 0, leaky_relu 0.01.)
        ("relu", NAN, NAN, NAN), ("abs", NAN, NAN, NAN), ("leaky_relu", NAN, NAN, NAN),
        ("sigmoid", NAN, NAN, NAN), ("tanh", NAN, NAN, NAN), ("exp", NAN, NAN, NAN),
        # Infinities: the limits, as PyTorch.
        ("relu", INF, INF, 1.0), ("relu", -INF, 0.0, 0.0), ("abs", INF, INF, 1.0),
        ("abs", -INF, INF, -1.0), ("sigmoid", INF, 1.0, 0.0), ("sigmoid", -INF, 0.0, 0.0),
        ("tanh", INF, 1.0, 0.0), ("tanh", -INF, -1.0, 0.0), ("exp", INF, INF, INF),
        ("exp", -INF, 0.0, 0.0), ("log", INF, INF, 0.0), ("sqrt", INF, INF, 0.0),
        ("leaky_relu", -INF, -INF, 0.01), ("leaky_relu", INF, INF, 1.0),
        # The kinks, as PyTorch: slope 0 at 0.
        ("relu", 0.0, 0.0, 0.0), ("abs", 0.0, 0.0, 0.0),
    ],
)  # fmt: skip
def test_nan_and_inf_through_each_op(op, x, value, slope):
    leaf = Value(x)
    y = getattr(leaf, op)()
    y.backward()
    assert same(y.data, value) and same(leaf.grad, slope), (y.data, leaf.grad)


def test_abs_and_relu_slopes_under_create_graph_are_right_at_zero():
    # The rules get Values there: a comparison by identity (==) would give NaN at 0.
    for op in ("abs", "relu"):
        x = Value(0.0)
        [first] = grad(getattr(x, op)(), [x], create_graph=True)
        assert data_of(first) == 0.0


def test_pow_gradient_of_the_exponent_keeps_nan_and_is_0_at_base_0():
    # PyTorch float64: d(b^w)/dw = b^w ln b is 0 at b = 0 and NaN at b = NaN.
    for base, expected in ((0.0, 0.0), (NAN, NAN)):
        w = Value(0.5)
        (base**w).backward()
        assert same(w.grad, expected)


def test_second_derivative_of_sqrt_at_0_is_minus_inf_as_pytorch():
    x = Value(0.0, label="x")
    [first] = grad(x.sqrt(), [x], create_graph=True)
    assert data_of(first) == INF  # 1 / (2 sqrt 0)
    [second] = grad(first, [x])
    assert second == -INF  # d/dx 1/(2 sqrt x) = -1/(4 x^1.5) -> -inf (PyTorch: -inf)
    x = Value(4.0)  # elsewhere the rule is unchanged: -1/(4 * 8)
    [first] = grad(x.sqrt(), [x], create_graph=True)
    assert grad(first, [x])[0] == pytest.approx(-1 / 32)


def test_nan_and_inf_are_allowed_in_values_and_seeds_as_documented():
    # Allowed, like PyTorch's tensors; detect_anomaly() catches their first use (test_anomaly).
    assert math.isnan(Value(NAN).data) and Value(-INF).data == -INF
    x = Value(2.0)
    (x * 3.0).backward(seed=NAN)
    assert math.isnan(x.grad)


def test_sqrt_of_nan_has_a_nan_slope_not_inf():
    x = Value(NAN)
    y = x.sqrt()
    y.backward()
    assert math.isnan(y.data) and math.isnan(x.grad)  # PyTorch: nan, nan


def test_negative_base_to_a_nan_power_is_nan_not_a_misleading_refusal():
    x = Value(-2.0)
    y = x**NAN
    y.backward()
    assert math.isnan(y.data) and math.isnan(x.grad)  # PyTorch: nan, nan
    with pytest.raises(ValueError, match="negative base to a non-integer power"):
        x**0.5  # still refused for a real non-integer exponent


def test_sum_values_of_infinities_gives_what_a_chain_of_plus_gives():
    # math.fsum raises for inf - inf and for overflow; the sum must not (as "+" and PyTorch).
    a, b = Value(INF), Value(-INF)
    s = sum_values([a, b])
    s.backward()
    assert math.isnan(s.data) and math.isnan((a + b).data) and a.grad == 1.0
    assert sum_values([1e308, 1e308]).data == INF == (Value(1e308) + 1e308).data


def test_second_derivatives_of_a_power_at_base_0_are_pytorchs():
    # x ** y at x = 0, 0 < y < 1: d/dx = inf; d2/dx2 = y (y-1) x^(y-2) -> -inf; d2/dxdy = NaN
    # (inf - inf). PyTorch float64 gives inf, -inf, nan.
    x, y = Value(0.0), Value(0.5)
    [first] = grad(x**y, [x], create_graph=True)
    assert data_of(first) == INF
    second_x, second_y = grad(first, [x, y])
    assert second_x == -INF and math.isnan(second_y)
    x = Value(0.0)
    [first] = grad(x**0.5, [x], create_graph=True)  # a constant exponent
    assert grad(first, [x]) == [-INF]


def test_assigning_a_non_str_label_is_refused_where_it_happens():
    node = Value(1.0, label="w") * 2.0
    node.label = "z"
    assert node.label == "z"
    with pytest.raises(
        TypeError, match=r"Value: setting \.label: the new label must be a str, got int 3"
    ):
        node.label = 3
    assert node.label == "z"
