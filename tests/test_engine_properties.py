"""Property tests: random expression graphs that mix every operation and reuse nodes, with
backward() checked against central finite differences of the same expression on floats."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd_lite import Value, grad, sum_values, weighted_sum

# Each op: (arity, on Values, on floats, is it defined and smooth near these float inputs?)
# The float versions are written from the math, independently of the engine.
SMOOTH_AWAY_FROM = 1e-3  # finite differences need a kink or a pole to be this far away


def away_from_zero(x):
    return abs(x) > SMOOTH_AWAY_FROM


OPS = {
    "+": (2, lambda x, y: x + y, lambda x, y: x + y, lambda x, y: True),
    "-": (2, lambda x, y: x - y, lambda x, y: x - y, lambda x, y: True),
    "*": (2, lambda x, y: x * y, lambda x, y: x * y, lambda x, y: True),
    "/": (2, lambda x, y: x / y, lambda x, y: x / y, lambda x, y: abs(y) > 0.1),
    "**": (2, lambda x, y: x**y, lambda x, y: x**y, lambda x, y: x > 0.1 and abs(y) < 4),
    "square": (1, lambda x: x**2, lambda x: x * x, lambda x: True),
    "cube": (1, lambda x: x**3, lambda x: x * x * x, lambda x: True),
    "neg": (1, lambda x: -x, lambda x: -x, lambda x: True),
    "exp": (1, lambda x: x.exp(), math.exp, lambda x: x < 10),
    "log": (1, lambda x: x.log(), math.log, lambda x: x > 0.1),
    "sqrt": (1, lambda x: x.sqrt(), math.sqrt, lambda x: x > 0.1),
    "tanh": (1, lambda x: x.tanh(), math.tanh, lambda x: True),
    "sigmoid": (1, lambda x: x.sigmoid(), lambda x: 0.5 + 0.5 * math.tanh(x / 2), lambda x: True),
    "relu": (1, lambda x: x.relu(), lambda x: x if x > 0 else 0.0, away_from_zero),
    "abs": (1, lambda x: abs(x), abs, away_from_zero),
    "leaky_relu": (
        1,
        lambda x: x.leaky_relu(0.2),
        lambda x: x if x > 0 else 0.2 * x,
        away_from_zero,
    ),
    "sum3": (3, lambda x, y, z: sum_values([x, y, z]), lambda x, y, z: x + y + z, lambda *a: True),
    "neuron": (
        5,  # z = w1*a1 + w2*a2 + b
        lambda w1, w2, a1, a2, b: weighted_sum([w1, w2], [a1, a2], b),
        lambda w1, w2, a1, a2, b: w1 * a1 + w2 * a2 + b,
        lambda *a: True,
    ),
}


@st.composite
def programs(draw):
    """A list of (op, argument indices): argument i refers to the i-th value made so far
    (the leaves come first), so later steps reuse earlier nodes freely."""
    n_leaves = draw(st.integers(1, 4))
    leaves = draw(
        st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=n_leaves, max_size=n_leaves)
    )
    steps = []
    for k in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(sorted(OPS)))
        arity = OPS[op][0]
        available = n_leaves + k
        steps.append((op, [draw(st.integers(0, available - 1)) for _ in range(arity)]))
    return leaves, steps


def run(steps, values, on_values):
    """Evaluate the program on Values (on_values=True) or floats; None if an op is undefined
    or not smooth at these inputs, or numbers grow too large for finite differences."""
    values = list(values)
    for op, args in steps:
        _, with_values, with_floats, smooth_here = OPS[op]
        operands = [values[i] for i in args]
        floats = [float(v) for v in operands]
        if not smooth_here(*floats):
            return None
        result = with_values(*operands) if on_values else with_floats(*operands)
        if not abs(float(result)) < 1e6:
            return None
        values.append(result)
    return values[-1]


def finite_differences(steps, leaves, eps=1e-6):
    """Central differences of the program in each leaf; None where one is undefined."""
    slopes = []
    for i, x in enumerate(leaves):
        up = run(steps, leaves[:i] + [x + eps] + leaves[i + 1 :], on_values=False)
        down = run(steps, leaves[:i] + [x - eps] + leaves[i + 1 :], on_values=False)
        if up is None or down is None:
            return None
        slopes.append((up - down) / (2 * eps))
    return slopes


def assert_close_to(numeric, analytic, out, what):
    for i, (expected, got) in enumerate(zip(numeric, analytic)):
        assert math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-4 * (1 + abs(out.data))), (
            f"x{i}: {what} {got} vs finite differences {expected}"
        )


def built(program):
    """The program run on fresh leaves, with its finite differences (rejected if undefined)."""
    leaves, steps = program
    leaf_values = [Value(x, label=f"x{i}") for i, x in enumerate(leaves)]
    out = run(steps, leaf_values, on_values=True)
    assume(out is not None)
    numeric = finite_differences(steps, leaves)
    assume(numeric is not None)
    return leaf_values, out, numeric


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(programs())
def test_backward_matches_finite_differences(program):
    leaf_values, out, numeric = built(program)
    out.backward()
    assert_close_to(numeric, [v.grad for v in leaf_values], out, "backward")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(programs())
def test_grad_matches_finite_differences_and_leaves_grads_alone(program):
    """grad() on floats, and on Values (create_graph=True, the rules evaluated on Values)."""
    leaf_values, out, numeric = built(program)
    assert_close_to(numeric, grad(out, leaf_values), out, "grad")
    as_values = grad(out, leaf_values, create_graph=True)
    assert_close_to(numeric, [v.data for v in as_values], out, "grad(create_graph=True)")
    assert all(v.grad == 0.0 for v in leaf_values)
