"""A user's own ops work everywhere: softplus and hypot, each one forward and one rule in a
file outside the package (tests/user_ops/my_ops.py, docs/engine.md's recipe), in
``backward()``, ``grad(create_graph=True)``, ``gradcheck``, ``trace`` with every replay
backend and ``export`` in every language. Every number is checked against ``math`` (the
values) and central finite differences of a reference written with ``math`` (the slopes),
and against hand-derived slopes where they are short."""

from __future__ import annotations

import importlib
import math
import sys

import pytest
from test_export import RUN, parse

from autograd_lite import Value, grad, gradcheck
from autograd_lite.engine import DERIVATIVES, OPERATIONS, operand, record
from autograd_lite.export import LANGUAGES, export_graph
from autograd_lite.program import replay, trace
from autograd_lite.program.backends import ReplayError

EPS = 1e-6


@pytest.fixture(scope="module", autouse=True)
def my_ops():
    """The user's module, imported as a user does (which registers its ops), and its ops
    taken out of the engine's tables afterwards: other tests count the engine's own."""
    sys.modules.pop("user_ops.my_ops", None)
    module = importlib.import_module("user_ops.my_ops")
    yield module
    for op in ("softplus", "hypot"):
        DERIVATIVES.pop(op, None)
        OPERATIONS.pop(op, None)


def softplus(x: Value | float) -> Value:
    return sys.modules["user_ops.my_ops"].softplus(x)


def hypot(x: Value | float, y: Value | float) -> Value:
    return sys.modules["user_ops.my_ops"].hypot(x, y)


def central(f, point: list[float], k: int, eps: float = EPS) -> float:
    """d f / d point[k], by central differences."""
    up = [v + (eps if j == k else 0.0) for j, v in enumerate(point)]
    down = [v - (eps if j == k else 0.0) for j, v in enumerate(point)]
    return (f(*up) - f(*down)) / (2 * eps)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def softplus_of(x: float) -> float:
    return math.log1p(math.exp(x)) if x < 30 else x + math.exp(-x)


def loss_of(w: float, b: float, x: float) -> float:
    """The reference of ``loss`` below, in plain math."""
    return 0.5 * math.hypot(softplus_of(w * x + b), w - 0.5)


def loss(w: Value, b: Value, x: Value) -> Value:
    return hypot(softplus(w * x + b), w - 0.5) * 0.5


POINTS = [(-3.0,), (-0.25,), (0.0,), (1.5,), (40.0,), (-40.0,)]
PAIRS = [(3.0, 4.0), (-1.0, 0.5), (0.0, -2.0), (1e-3, 7.0)]
# (w, b, x): where the loss is traced, then new parameters and new inputs
SAMPLES = [(0.8, -0.3, 1.2), (-1.1, 0.4, 0.5), (2.0, 1.0, -2.5), (0.5, -4.0, 3.0)]


# --- the engine: values, backward(), gradients of gradients, gradcheck ----------------------


@pytest.mark.parametrize("x", [p[0] for p in POINTS])
def test_softplus_has_the_value_and_slope_of_log_1_plus_e_x(x):
    leaf = Value(x, "x")
    y = softplus(leaf)
    y.backward()
    assert y.op == "softplus" and y.inputs == (leaf,)
    # log(1 + e^-|x|) is exact to a rounding of 1 (log1p would keep the digits of a tiny
    # softplus; the recipe keeps to the functions every language has)
    assert y.data == pytest.approx(softplus_of(x), rel=1e-14, abs=1e-16)
    assert leaf.grad == pytest.approx(sigmoid(x), rel=1e-12, abs=1e-16)  # by hand: σ(x)
    assert leaf.grad == pytest.approx(central(softplus_of, [x], 0), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(("x", "y"), PAIRS)
def test_hypot_has_the_value_and_slopes_of_the_length(x, y):
    a, b = Value(x, "a"), Value(y, "b")
    out = hypot(a, b)
    out.backward()
    assert out.data == pytest.approx(math.hypot(x, y), rel=1e-15)
    h = math.hypot(x, y)
    assert (a.grad, b.grad) == pytest.approx((x / h, y / h), rel=1e-14)  # by hand
    assert a.grad == pytest.approx(central(math.hypot, [x, y], 0), rel=1e-6, abs=1e-9)
    assert b.grad == pytest.approx(central(math.hypot, [x, y], 1), rel=1e-6, abs=1e-9)


def test_hypot_refuses_the_origin_where_it_has_no_slope():
    a, b = Value(0.0, "a"), Value(0.0, "b")
    with pytest.raises(ValueError, match=r"hypot: has no slope at \(0, 0\); got 0.0, 0.0"):
        hypot(a, b)


@pytest.mark.parametrize("x", [-3.0, -0.25, 0.0, 1.5])
def test_softplus_differentiates_twice_with_create_graph(x):
    leaf = Value(x, "x")
    [slope] = grad(softplus(leaf), [leaf], create_graph=True)  # the rule, on Values
    [curvature] = grad(slope, [leaf])
    assert slope.data == pytest.approx(sigmoid(x), rel=1e-12)
    s = sigmoid(x)
    assert curvature == pytest.approx(s * (1.0 - s), rel=1e-9)  # by hand: σ(1 - σ)
    assert curvature == pytest.approx(central(sigmoid, [x], 0), rel=1e-6)


@pytest.mark.parametrize(("x", "y"), PAIRS)
def test_hypot_differentiates_twice_with_create_graph(x, y):
    a, b = Value(x, "a"), Value(y, "b")
    [da, _] = grad(hypot(a, b), [a, b], create_graph=True)
    d2a, d2ab = grad(da, [a, b])
    h = math.hypot(x, y)
    assert (d2a, d2ab) == pytest.approx((y * y / h**3, -x * y / h**3), rel=1e-9, abs=1e-15)

    def slope(p: float, q: float) -> float:
        return p / math.hypot(p, q)

    assert d2a == pytest.approx(central(slope, [x, y], 0), rel=1e-5, abs=1e-7)
    assert d2ab == pytest.approx(central(slope, [x, y], 1), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize(("w", "b", "x"), SAMPLES)
def test_gradcheck_passes_on_a_graph_of_both(w, b, x):
    result = gradcheck(lambda w, b: loss(w, b, Value(x)), [Value(w, "w"), Value(b, "b")])
    assert result, str(result)


# --- replays and exports ---------------------------------------------------------------------


def traced():
    """The loss traced at the first sample, with w and b as parameters and x as an input."""
    w, b, x = (Value(v, name) for v, name in zip(SAMPLES[0], ("w", "b", "x")))
    return trace(loss(w, b, x), params=[w, b], inputs=[x])


def test_trace_records_the_users_ops():
    program = traced()
    assert {"softplus", "hypot"} <= set(program.ops)


def test_every_replay_backend_runs_the_users_ops(backend):  # noqa: F811 (the fixture)
    program = replay(traced(), backend)
    for w, b, x in SAMPLES:
        result = program.run(inputs=[x], params=[w, b])
        assert float(result.loss) == pytest.approx(loss_of(w, b, x), rel=1e-12)
        for k, got in enumerate(result.gradients):
            numeric = central(lambda w, b, x=x: loss_of(w, b, x), [w, b], k)
            assert float(got) == pytest.approx(numeric, rel=1e-6, abs=1e-9), (w, b, x, k)
        params = [Value(w), Value(b)]
        engine = loss(*params, Value(x))
        engine.backward()
        assert [float(g) for g in result.gradients] == pytest.approx(
            [p.grad for p in params], rel=1e-12
        )


def test_every_replay_backend_refuses_where_the_op_does(backend):  # noqa: F811 (the fixture)
    a, b = Value(3.0, "a"), Value(4.0, "b")
    program = replay(trace(hypot(a, b), params=[a, b]), backend)
    assert list(program.run(params=[3.0, 4.0]).gradients) == pytest.approx([0.6, 0.8])
    with pytest.raises(ReplayError, match=r"replay: hypot at node 2 refuses its inputs 0.0, 0.0"):
        program.run(params=[0.0, 0.0])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_exports_the_users_ops(language, tmp_path):
    w, b, x = SAMPLES[1]
    params = [Value(w, "w"), Value(b, "b")]
    source = export_graph(loss(*params, Value(x, "x")), params, language, lr=0.1)
    assert "softplus_forward(" in source  # softplus branches: a helper, defined once
    printed = parse(RUN[language](source, tmp_path))
    assert printed["E"] == pytest.approx(loss_of(w, b, x), rel=1e-12)
    for k, name in enumerate(("w", "b")):
        numeric = central(lambda w, b: loss_of(w, b, x), [w, b], k)
        assert printed[f"dE/d{name}"] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    stepped = [p - 0.1 * printed[f"dE/d{n}"] for p, n in zip((w, b), ("w", "b"))]
    assert printed["E after one step"] == pytest.approx(loss_of(*stepped, x), rel=1e-12)


# --- what cannot be read off: a clear error naming the op and what it lacks -----------------


def test_an_op_whose_forward_calls_math_is_refused_by_trace_with_where(monkeypatch):
    def erf_op(x: Value) -> Value:
        out = math.erf(x.data)  # math.erf works on floats only
        return record(out, "erf_op", (x,), (2.0 / math.sqrt(math.pi) * math.exp(-(x.data**2)),))

    monkeypatch.setitem(OPERATIONS, "erf_op", (erf_op, ()))
    monkeypatch.setitem(DERIVATIVES, "erf_op", lambda x, out: (0.0,))
    x = Value(0.5, "x")
    y = erf_op(x)
    y.backward()  # the engine itself runs it
    assert x.grad == pytest.approx(2.0 / math.sqrt(math.pi) * math.exp(-0.25))
    with pytest.raises(ValueError, match=r"trace: op 'erf_op' cannot be read off as "
                       r"expressions \(at test_user_ops.py:\d+, in erf_op\): .*works on floats "
                       r"only .*autograd_lite.elementary"):  # fmt: skip
        trace(y, params=[x])


def test_an_op_with_a_rule_and_no_forward_is_refused_by_trace(monkeypatch):
    def cube(x: Value) -> Value:
        x = operand(x, "cube")
        return record(x.data**3, "cube", (x,), (3.0 * x.data**2,))

    monkeypatch.setitem(DERIVATIVES, "cube", lambda x, out: (3.0 * x * x,))
    x = Value(2.0, "x")
    lacks = r"op 'cube' has a derivative rule but no forward: decorate the function that"
    with pytest.raises(ValueError, match=lacks + r" computes it with @operation\('cube'\)"):
        trace(cube(x), params=[x])
