"""Each op read off the engine as expressions (``autograd_lite.expressions``): what it reads
agrees with the engine itself at ordinary points, at the edges its functions special-case,
at NaN and the infinities, and where it refuses; the symbols' reasoning (branches, what a
path implies, refusals); and an op over lists of a user's own, replayed and exported."""

from __future__ import annotations

import math

import pytest
from test_export import RUN, parse

from autograd_lite import Value
from autograd_lite.elementary import exp, fsum, isfinite, log, sqrt, tanh
from autograd_lite.engine import (
    DERIVATIVES,
    OPERATIONS,
    apply_rule,
    derivative,
    operand,
    operation,
    record,
)
from autograd_lite.export import export_graph
from autograd_lite.expressions import FoldExpressions, expressions
from autograd_lite.program import replay, trace
from autograd_lite.program.backends import ReplayError
from autograd_lite.program.render import render
from autograd_lite.symbolic import Facts, Symbol, SymbolicError, assemble, explore

NAN, INF = math.nan, math.inf
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 700.0, 710.0, -800.0, NAN, INF, -INF]
UNARY = {
    "neg": Value.__neg__,
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "abs": Value.abs,
}
BINARY = {
    "+": Value.__add__,
    "*": Value.__mul__,
    "-": Value.__sub__,
    "/": Value.__truediv__,
    "**": Value.__pow__,
    "leaky_relu": Value.leaky_relu,
}
PAIRS = [(x, y) for x in SPECIAL for y in [0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 1e-300, NAN, INF]]


def same(a: float, b: float) -> bool:
    """The same float, bit for bit but for the sign of a zero; NaN is NaN."""
    return (a != a and b != b) or a == b


def evaluate(op: str, point: tuple[float, ...]):
    """(refused, forward, derivatives) of op's expressions, written as Python, at point."""
    found = expressions(op)
    env = {"math": math, **dict(zip(found.inputs, point))}
    try:  # as the python replay runs them: where Python's math raises, it refuses too
        env["out"] = eval(render(found.forward, "python"), env)
        if eval(render(found.refuse, "python"), env):
            return True, None, None
        slopes = [eval(render(d, "python"), env) for d in found.derivatives]
    except (ArithmeticError, ValueError):
        return True, None, None
    return False, env["out"], slopes


@pytest.mark.parametrize("op", sorted(UNARY) + sorted(BINARY))
def test_the_expressions_of_each_op_agree_with_the_engine_everywhere(op):
    method = UNARY.get(op) or BINARY[op]
    points = [(x,) for x in SPECIAL] if op in UNARY else PAIRS
    for point in points:
        try:
            node = method(*[Value(v) for v in point])
        except (ArithmeticError, ValueError):
            assert evaluate(op, point)[0], (op, point, "the engine refuses, the expressions not")
            continue
        refused, out, slopes = evaluate(op, point)
        assert not refused, (op, point, "the expressions refuse, the engine does not")
        assert same(out, node.data), (op, point, out, node.data)
        assert all(map(same, slopes, node.local_grads)), (op, point, slopes, node.local_grads)


def test_the_ops_over_lists_read_as_a_start_and_one_term_per_index():
    total = expressions("sum")
    assert isinstance(total, FoldExpressions)
    assert (total.exact, total.term, total.derivatives) == (True, "values", (1.0,))
    neuron = expressions("weighted_sum")
    assert (neuron.exact, neuron.start, neuron.term) == (
        False,
        "bias",
        ("*", "weights", "activations"),
    )
    assert neuron.derivatives == ("activations", "weights", 1.0)  # dz/dw = a, dz/da = w, dz/db = 1
    assert neuron.layout(7) == [(0, 3), (3, 3), (6, 1)]


def test_finite_slopes_say_which_ops_a_replay_may_skip_at_a_zero_gradient():
    finite = {
        op for op in [*UNARY, *BINARY, "sum", "weighted_sum"] if expressions(op).finite_slopes
    }
    # a division, a power, a log or an infinity in a slope: 0 x slope may be NaN there
    assert finite == {"neg", "exp", "tanh", "sigmoid", "relu", "abs", "+", "*", "-",
                      "leaky_relu", "sum", "weighted_sum"}  # fmt: skip


# --- the symbols ------------------------------------------------------------------------------


def test_a_branch_is_explored_both_ways_and_nan_keeps_its_own_path():
    x = Symbol("x")
    paths = explore(lambda: 1.0 if x > 0.0 else 0.0 if x <= 0.0 else NAN)
    assert len(paths) == 3  # x > 0, x <= 0, and neither: NaN
    expr = assemble(paths, lambda outcome: outcome.value)
    assert render(expr, "python") == "(1.0 if (x > 0.0) else (0.0 if (x <= 0.0) else math.nan))"


def test_what_earlier_answers_imply_is_not_asked_again():
    facts = Facts([((">", "x", 0.0), False)])  # x <= 0, or NaN
    assert facts.implied(("==", "x", 1.0)) is False
    assert facts.implied(("<=", "x", 0.0)) is None  # NaN is still possible
    assert (
        Facts([((">", "x", 0.0), False), (("<", "x", 0.0), False)]).implied(("!=", "x", 0.0))
        is None
    )  # x is 0 or NaN
    assert Facts([(("<", "x", 1.0), True)]).implied(("==", "x", 0.0)) is None  # 0 < 1
    assert Facts().implied(("==", ("+", 1.0, ("exp", "x")), 0.0)) is False  # 1 + e^x >= 1
    assert Facts().implied(("<", ("*", "x", "x"), 0.0)) is False  # a square
    assert Facts().implied(("==", ("abs", ("exp", ("neg", ("abs", "x")))), INF)) is False


def test_a_symbol_raises_where_a_float_raises_and_the_path_becomes_a_refusal():
    x = Symbol("x")
    paths = explore(lambda: log(x) / (x - 1.0))
    refuse = assemble(paths, lambda outcome: outcome.error is not None)
    for value in [-1.0, 0.0, 1.0, 0.5, 2.0, NAN]:
        try:
            math.log(value) / (value - 1.0)
            python_refuses = False
        except (ArithmeticError, ValueError):
            python_refuses = True
        assert eval(render(refuse, "python"), {"math": math, "x": value}) == python_refuses


def test_a_symbol_refuses_to_become_a_float():
    with pytest.raises(SymbolicError, match="cannot become a float"):
        math.exp(Symbol("x"))
    with pytest.raises(SymbolicError, match="outside autograd_lite.symbolic.explore"):
        bool(Symbol("x") > 0.0)


def test_the_elementary_functions_take_numbers_values_and_symbols():
    assert (exp(0.0), log(1.0), sqrt(4.0), tanh(0.0), isfinite(INF)) == (1.0, 0.0, 2.0, 0.0, False)
    assert exp(1) == math.e  # an int too
    assert [f(Value(0.25)).op for f in (exp, log, sqrt, tanh)] == ["exp", "log", "sqrt", "tanh"]
    assert tanh(Symbol("x")).expr == ("tanh", "x")
    assert fsum([1e16, 1.0, -1e16]) == 1.0 and fsum([Symbol("a"), 2.0]).expr == ("fsum", "a", 2.0)
    with pytest.raises(TypeError, match="^exp: x must be a number, a Value or a symbol, got str"):
        exp("1")


def test_apply_rule_gives_an_op_over_lists_its_lists():
    w, a, b = [Value(0.5), Value(-1.0)], [Value(2.0), Value(3.0)], Value(0.25)
    assert apply_rule("weighted_sum", (*w, *a, b), None) == (*a, *w, 1.0)
    assert apply_rule("sum", (1.0, 2.0, 3.0), 6.0) == (1.0, 1.0, 1.0)
    assert apply_rule("*", (2.0, -3.0), -6.0) == (-3.0, 2.0)


def test_operation_refuses_many_names_that_are_not_parameters():
    with pytest.raises(ValueError, match=r"operation\('x'\): many=\['weights'\] are not param"):
        operation("x", many=("weights",))(lambda values: values)


# --- an op over lists of a user's own --------------------------------------------------------


@pytest.fixture
def sum_of_squares():
    """A user's op over a list, registered for one test."""
    saved = dict(DERIVATIVES), dict(OPERATIONS)

    @operation("sum_of_squares", many=("values",))
    def forward(values):
        values = [operand(v, "sum_of_squares") for v in values]
        data = [v.data for v in values]
        out = sum([d * d for d in data], 0.0)
        return record(out, "sum_of_squares", tuple(values), rule(data, out))

    @derivative("sum_of_squares")
    def rule(values, out):
        """d/dvi = 2 vi"""
        return tuple(2.0 * v for v in values)

    yield forward
    for table, before in zip((DERIVATIVES, OPERATIONS), saved):
        table.clear()
        table.update(before)


def reference(p: float, q: float, x: float) -> float:
    return (p * x) ** 2 + q**2 + (p - q) ** 2


def central(p: float, q: float, x: float, k: int, eps: float = 1e-6) -> float:
    up, down = [p, q], [p, q]
    up[k] += eps
    down[k] -= eps
    return (reference(*up, x) - reference(*down, x)) / (2 * eps)


def test_a_users_op_over_a_list_reads_as_a_sum_of_terms(sum_of_squares):
    found = expressions("sum_of_squares")
    assert (found.start, found.term, found.exact) == (0.0, ("*", "values", "values"), False)
    assert found.derivatives == (("*", 2.0, "values"),)


def test_a_users_op_over_a_list_replays(sum_of_squares, backend):  # noqa: F811 (the fixture)
    p, q, x = Value(0.5, "p"), Value(-1.5, "q"), Value(2.0, "x")
    program = trace(sum_of_squares([p * x, q, p - q]), params=[p, q], inputs=[x])
    if backend == "numpy":
        with pytest.raises(ReplayError, match="'sum_of_squares' is neither: use the python"):
            replay(program, backend).run([2.0])
        return
    runner = replay(program, backend)
    for point in [(0.5, -1.5, 2.0), (-1.0, 3.0, 0.25)]:
        result = runner.run(inputs=[point[2]], params=point[:2])
        assert result.loss == pytest.approx(reference(*point), rel=1e-15)
        numeric = [central(*point, k) for k in range(2)]
        assert list(result.gradients) == pytest.approx(numeric, rel=1e-7)


@pytest.mark.parametrize("language", ["python", "c", "javascript"])
def test_a_users_op_over_a_list_exports(sum_of_squares, language, tmp_path):
    p, q = Value(0.5, "p"), Value(-1.5, "q")
    source = export_graph(sum_of_squares([p * 2.0, q, p - q]), [p, q], language, lr=0.1)
    printed = parse(RUN[language](source, tmp_path))
    assert printed["E"] == reference(0.5, -1.5, 2.0)
    assert [printed["dE/dp"], printed["dE/dq"]] == pytest.approx(
        [central(0.5, -1.5, 2.0, k) for k in range(2)], rel=1e-7
    )
