"""Forward mode (autograd_lite/forward_mode.py): ``jvp`` and ``hvp`` against central finite
differences of f's values and against hand-derived derivatives; their argument checks; and
what they must leave alone (every ``.grad``, the recording mode)."""

from __future__ import annotations

import math
import random

import pytest
from helpers import needs_extra

from autograd_lite import (
    AnomalyError,
    Value,
    detect_anomaly,
    grad,
    hvp,
    is_grad_enabled,
    jvp,
    no_grad,
    sum_values,
    weighted_sum,
)
from autograd_lite.engine import DERIVATIVES, derivative, operand, record
from autograd_lite.modes import SPECIAL_MODES
from autograd_lite.nn import MLP, half_sum_squared_error

# --- finite differences: f's values only ----------------------------------------------------


def value_at(f, xs) -> float:
    with no_grad():
        return f(*[Value(x) for x in xs]).data


def shifted(xs, direction, h):
    return [x + h * d for x, d in zip(xs, direction)]


def numeric_directional(f, xs, direction, h=1e-6) -> float:
    """(f(x + h v) - f(x - h v)) / 2h"""
    return (value_at(f, shifted(xs, direction, h)) - value_at(f, shifted(xs, direction, -h))) / (
        2 * h
    )


def numeric_hessian_vector(f, xs, v, h=1e-4) -> list[float]:
    """(H v)_i = d/dx_i (d/dv f), by central differences in both: four values of f each."""
    result = []
    for i in range(len(xs)):
        e = [1.0 if j == i else 0.0 for j in range(len(xs))]
        plus, minus = shifted(xs, e, h), shifted(xs, e, -h)
        result.append(
            (
                value_at(f, shifted(plus, v, h))
                - value_at(f, shifted(plus, v, -h))
                - value_at(f, shifted(minus, v, h))
                + value_at(f, shifted(minus, v, -h))
            )
            / (4 * h * h)
        )
    return result


def close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * (1.0 + abs(b))


# --- random smooth functions of several variables, built from the engine's ops --------------

# Each step makes a new value from one or two earlier ones; all smooth everywhere and bounded
# (squashed, or made positive before log, sqrt, / and **), so differences are meaningful.
STEPS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1.0 + b * b),
    lambda a, b: (a * a + 1.0) ** 1.5,
    lambda a, b: (a * a + b * b + 0.5).log(),
    lambda a, b: (a * a + 1.0).sqrt(),
    lambda a, b: a.tanh(),
    lambda a, b: b.sigmoid(),
    lambda a, b: a.tanh().exp(),
    lambda a, b: -a,
    lambda a, b: 2.0 ** a.tanh(),
    lambda a, b: sum_values([a, b, 0.5]),
    lambda a, b: weighted_sum([a, b], [b.tanh(), 0.3], a),
]


def random_case(seed: int, inputs: tuple[int, int], n_steps: int = 12, spread: float = 1.5):
    """A function of n Values (n drawn from ``inputs``): a fixed random program of STEPS,
    summed at the end), a point and a direction."""
    rng = random.Random(seed)
    n = rng.randint(*inputs)
    program = [
        (rng.randrange(len(STEPS)), rng.randrange(n + k), rng.randrange(n + k))
        for k in range(n_steps)
    ]

    def f(*xs):
        pool = list(xs)
        for step, i, j in program:
            pool.append(STEPS[step](pool[i], pool[j]))
        return sum_values(pool[n:]).tanh() + pool[-1] * pool[0]

    xs = [rng.uniform(-spread, spread) for _ in range(n)]
    return f, xs, [rng.uniform(-1.0, 1.0) for _ in range(n)]


@pytest.mark.parametrize("seed", range(25))
def test_jvp_matches_central_differences_on_random_functions(seed):
    f, xs, v = random_case(1000 + seed, inputs=(1, 5))
    value, derivative_along_v = jvp(f, xs, v)
    assert value == pytest.approx(value_at(f, xs), rel=1e-12, abs=1e-12)
    assert close(derivative_along_v, numeric_directional(f, xs, v), 1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_hvp_matches_central_differences_on_random_functions(seed):
    f, xs, v = random_case(2000 + seed, inputs=(1, 4), n_steps=8, spread=1.0)
    n = len(xs)
    value, gradient, h_v = hvp(f, xs, v)
    assert value == pytest.approx(value_at(f, xs), rel=1e-12, abs=1e-12)
    for i in range(n):
        e = [1.0 if j == i else 0.0 for j in range(n)]
        assert close(gradient[i], numeric_directional(f, xs, e), 1e-6)
    for got, numeric in zip(h_v, numeric_hessian_vector(f, xs, v)):
        assert close(got, numeric, 1e-4)


# --- a small network's loss -------------------------------------------------------------


def mlp_error(model, sample, target):
    """E(weights): the model's error on one sample, with the given Values as its parameters."""

    def error(*leaves):
        given = iter(leaves)
        for layer in model.layers:
            for neuron in layer.neurons:
                neuron.w = [next(given) for _ in neuron.w]
                neuron.b = next(given)
        return half_sum_squared_error([model(sample)], [target])

    return error


def test_jvp_of_a_small_mlps_loss_in_its_weights_matches_central_differences():
    model = MLP(2, [4, 4, 1], seed=3)
    error = mlp_error(model, [0.4, -0.9], 0.7)
    rng = random.Random(5)
    ws = [p.data for p in model.parameters()]
    for _ in range(3):
        v = [rng.uniform(-1.0, 1.0) for _ in ws]
        _, along_v = jvp(error, ws, v)
        assert close(along_v, numeric_directional(error, ws, v), 1e-6)


def test_hvp_of_a_small_mlps_loss_matches_central_differences_and_reverse_over_reverse():
    model = MLP(2, [3, 1], seed=4)
    error = mlp_error(model, [0.4, -0.9], 0.7)
    rng = random.Random(6)
    ws = [p.data for p in model.parameters()]
    v = [rng.uniform(-1.0, 1.0) for _ in ws]
    _, _, h_v = hvp(error, ws, v)
    for got, numeric in zip(h_v, numeric_hessian_vector(error, ws, v)):
        assert close(got, numeric, 1e-4)
    assert h_v == pytest.approx(reverse_over_reverse(error, ws, v), rel=1e-12, abs=1e-12)


def reverse_over_reverse(f, xs, v) -> list[float]:
    """H v the other way: d/dx of (gradient · v), two backward passes."""
    leaves = [Value(x) for x in xs]
    g = grad(f(*leaves), leaves, create_graph=True)
    return grad(sum_values([g_i * v_i for g_i, v_i in zip(g, v)]), leaves)


@pytest.mark.parametrize("seed", range(6))
def test_forward_over_reverse_agrees_with_reverse_over_reverse(seed):
    f, xs, v = random_case(3000 + seed, inputs=(2, 5))
    assert hvp(f, xs, v)[2] == pytest.approx(reverse_over_reverse(f, xs, v), rel=1e-10)


# --- hand-derived values ------------------------------------------------------------------


def test_jvp_of_xy_plus_tanh_x_y_is_the_hand_derived_directional_derivative():
    x, y = 0.7, -1.3
    t = math.tanh(x)
    d_dx, d_dy = y + (1 - t * t) * y, x + t
    for v in ([1.0, 0.0], [0.0, 1.0], [2.0, -0.5]):
        value, along_v = jvp(lambda a, b: a * b + a.tanh() * b, [x, y], v)
        assert value == pytest.approx(x * y + t * y, rel=1e-15)
        assert along_v == pytest.approx(v[0] * d_dx + v[1] * d_dy, rel=1e-14)


def test_hvp_of_x_squared_y_is_the_known_hessian_times_v():
    x, y = 1.5, -2.0
    hessian = [[2 * y, 2 * x], [2 * x, 0.0]]
    for v in ([1.0, 0.0], [0.0, 1.0], [0.3, -0.8]):
        value, gradient, h_v = hvp(lambda a, b: a * a * b, [x, y], v)
        assert value == x * x * y
        assert gradient == pytest.approx([2 * x * y, x * x], rel=1e-15)
        assert h_v == pytest.approx([row[0] * v[0] + row[1] * v[1] for row in hessian], rel=1e-15)


def test_hvp_of_a_quadratic_form_is_the_matrix_times_v():
    # f(x) = ½ xᵀ A x + bᵀ x with A symmetric: gradient A x + b, Hessian A, everywhere.
    a = [[2.0, -1.0, 0.5], [-1.0, 3.0, 0.25], [0.5, 0.25, 1.5]]
    b = [0.1, -0.2, 0.3]

    def f(*x):
        rows = [weighted_sum(x, row, 0.0) for row in a]  # A x, one weighted_sum per row
        return 0.5 * weighted_sum(rows, x, 0.0) + weighted_sum(x, b, 0.0)

    x, v = [0.4, -1.1, 2.0], [1.0, 0.5, -2.0]
    _, gradient, h_v = hvp(f, x, v)
    matvec = [sum(a_ij * v_j for a_ij, v_j in zip(row, v)) for row in a]
    assert gradient == pytest.approx(
        [sum(a_ij * x_j for a_ij, x_j in zip(row, x)) + b_i for row, b_i in zip(a, b)]
    )
    assert h_v == pytest.approx(matvec, rel=1e-14)


def test_a_list_of_outputs_gets_one_derivative_each_from_one_pass():
    values, along = jvp(lambda x, y: [x * y, (x + y).exp(), y], [2.0, 0.5], [1.0, -1.0])
    assert values == pytest.approx([1.0, math.exp(2.5), 0.5])
    assert along == pytest.approx([0.5 - 2.0, 0.0, -1.0])  # d(xy) = y dx + x dy


def test_outputs_not_made_from_the_primals_have_tangent_zero():
    constant = Value(4.0, label="c")  # made outside f: a constant along every direction
    assert jvp(lambda x: constant * 2.0, [1.0], [1.0]) == (8.0, 0.0)
    assert jvp(lambda x: x, [3.0], [-2.5]) == (3.0, -2.5)  # f returns a primal itself
    assert jvp(lambda x, y: y * 2.0, [1.0, 2.0], [1.0, 0.0]) == (4.0, 0.0)
    assert hvp(lambda x, y: x * 3.0 + y, [1.0, 2.0], [1.0, 1.0]) == (5.0, [3.0, 1.0], [0.0, 0.0])


# --- any op that records local_grads: the n-ary ones, a user's own ----------------------------


def test_n_ary_ops_carry_tangents():
    def f(w0, w1, a0, b):
        return weighted_sum([w0, w1], [a0, 2.0], b) * sum_values([w0, a0, 1.0])

    xs, v = [0.5, -1.0, 3.0, 0.25], [1.0, 2.0, -1.0, 0.5]
    z, s = 0.5 * 3.0 - 2.0 + 0.25, 0.5 + 3.0 + 1.0
    dz = 3.0 * 1.0 + 2.0 * 2.0 + 0.5 * -1.0 + 0.5  # a0 dw0 + 2 dw1 + w0 da0 + db
    ds = 1.0 - 1.0
    assert jvp(f, xs, v) == pytest.approx((z * s, dz * s + z * ds))


def softplus(x: Value | float) -> Value:
    """A user's op in the documented style: one forward, one rule."""
    x = operand(x, "test_softplus")
    out = math.log1p(math.exp(x.data))
    return record(out, "test_softplus", (x,), softplus_rule(x.data, out))


def softplus_rule(x, out) -> tuple:
    """d softplus(x)/dx = sigmoid(x) = 1 - e^-out (float or Value)"""
    return (1.0 - (-out).exp() if isinstance(out, Value) else 1.0 - math.exp(-out),)


def test_a_users_op_works_in_jvp_and_hvp():
    derivative("test_softplus")(softplus_rule)  # hvp evaluates the rule on Values
    try:
        x, y = 0.3, -0.6
        sig = 1 / (1 + math.exp(-x))
        value, along = jvp(lambda a, b: softplus(a) * b, [x, y], [1.0, 2.0])
        assert value == pytest.approx(math.log1p(math.exp(x)) * y)
        assert along == pytest.approx(sig * y + math.log1p(math.exp(x)) * 2.0)
        _, _, h_v = hvp(lambda a, b: softplus(a) * b, [x, y], [1.0, 2.0])
        # H = [[sig' y, sig], [sig, 0]], sig' = sig (1 - sig)
        assert h_v == pytest.approx([sig * (1 - sig) * y + sig * 2.0, sig])
    finally:
        del DERIVATIVES["test_softplus"]


# --- what they leave alone, and how they meet the modes ----------------------------------------


def test_jvp_and_hvp_touch_no_grad_of_the_callers_graph():
    model = MLP(2, [3, 1], seed=1)
    for i, p in enumerate(model.parameters()):
        p.grad = 0.5 * i  # as an earlier backward() would have left them
    before = [p.grad for p in model.parameters()]
    kept = model([0.1, 0.2])  # a graph of the caller's, with its own grads
    kept.backward()
    held = [p.grad for p in model.parameters()]
    assert held != before
    jvp(lambda x0, x1: model([x0, x1]), [0.3, -0.4], [1.0, 1.0])
    hvp(lambda x0, x1: model([x0, x1]) * x0, [0.3, -0.4], [1.0, 1.0])
    assert [p.grad for p in model.parameters()] == held
    assert kept.grad == 1.0


def test_no_grad_around_is_overridden_and_no_grad_inside_makes_a_constant():
    with no_grad():
        assert jvp(lambda x: x.exp(), [1.0], [1.0]) == (math.e, math.e)
        assert not is_grad_enabled()  # and given back

    def f(x):
        with no_grad():
            c = x * 2.0  # a constant for the chain rule, as in backward()
        return c * x

    assert jvp(f, [3.0], [1.0]) == (18.0, 6.0)


def test_the_mode_is_restored_even_when_f_raises():
    special = len(SPECIAL_MODES)
    with pytest.raises(ValueError, match="log: needs x > 0; got x0=-1.0"):
        jvp(lambda x: x.log(), [-1.0], [1.0])  # the leaves are labelled x0, x1, ...
    assert len(SPECIAL_MODES) == special and is_grad_enabled()


def test_detect_anomaly_keeps_watching_inside_jvp():
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"\* gave inf"):
        jvp(lambda x: x * 1e308 * 10.0, [1.0], [1.0])


def test_nan_and_inf_are_allowed_as_in_the_engine():
    assert jvp(lambda x: x.sqrt(), [0.0], [1.0]) == (0.0, math.inf)  # vertical slope at 0
    value, along = jvp(lambda x, y: x * y, [math.nan, 2.0], [0.0, math.inf])
    assert math.isnan(value) and math.isnan(along)
    assert jvp(lambda x: x * 2.0, [math.inf], [1.0]) == (math.inf, 2.0)
    # A zero tangent is still multiplied: 0 * inf is NaN, as backward() with a seed of 0 gives.
    assert math.isnan(jvp(lambda x: x.sqrt(), [0.0], [0.0])[1])
    assert jvp(lambda x, y: x.sqrt() + y, [0.0, 1.0], [0.0, 1.0])[1] != 1.0


# --- arguments refused where they enter ----------------------------------------------------


def identity(x):
    return x


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: jvp(3, [1.0], [1.0]), TypeError, "jvp: f must be callable, got int 3"),
        (
            lambda: jvp(identity, "12", [1.0]),
            TypeError,
            "jvp: primals must be a sequence of numbers, got str '12'",
        ),
        (
            lambda: jvp(identity, [1.0], 1.0),
            TypeError,
            "jvp: tangents must be a sequence of numbers, got float 1.0",
        ),
        (
            lambda: jvp(identity, [1.0], {1.0}),
            TypeError,
            "jvp: tangents must be a sequence of numbers, got set {1.0}",
        ),
        (
            lambda: jvp(identity, [1.0, "a"], [1.0, 1.0]),
            TypeError,
            "jvp: primals[1] must be a number, got str 'a'",
        ),
        (
            lambda: jvp(identity, [True], [1.0]),
            TypeError,
            "jvp: primals[0] must be a number, got bool True",
        ),
        (
            lambda: jvp(identity, [1.0, 2.0], [1.0]),
            ValueError,
            "jvp: primals and tangents must have the same length, got lengths 2 and 1",
        ),
        (
            lambda: jvp(identity, [], []),
            ValueError,
            "jvp: primals must hold at least one number, got []",
        ),
        (
            lambda: jvp(lambda x: 3.0, [1.0], [1.0]),
            TypeError,
            "jvp: what f returns must be a Value or a list of Values, got float 3.0",
        ),
        (
            lambda: jvp(lambda x: [x, 2.0], [1.0], [1.0]),
            TypeError,
            "jvp: what f returns must be a Value or a list of Values, got list [Value(",
        ),
        (
            lambda: hvp(None, [1.0], [1.0]),
            TypeError,
            "hvp: f must be callable, got NoneType None",
        ),
        (
            lambda: hvp(identity, [1.0], [1.0, 2.0, 3.0]),
            ValueError,
            "hvp: primals and vector must have the same length, got lengths 1 and 3",
        ),
        (
            lambda: hvp(lambda x: [x], [1.0], [1.0]),
            TypeError,
            "hvp: what f returns must be a Value, got list [Value(",
        ),
    ],
)
def test_bad_arguments_are_refused_with_the_call_and_the_value(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value).startswith(message)


def test_a_numpy_array_or_a_tuple_is_a_sequence_of_numbers():
    assert jvp(lambda x, y: x * y, (2.0, 3), (1, 0)) == (6.0, 3.0)
    np = needs_extra("numpy")
    assert jvp(lambda x, y: x * y, np.array([2.0, 3.0]), np.array([0.0, 1.0])) == (6.0, 2.0)
