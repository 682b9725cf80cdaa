"""One behaviour at the edges: each op, at the numbers where floats overflow, underflow,
lose their sign, become infinite or NaN, or leave the op's domain, gives the engine's
number (bit for bit, or the same inf or NaN) or the engine's error in the python, NumPy and
C replays, and the engine's number in the exported Python, C and JavaScript files. The
engine itself never lets a bare OverflowError out: each error names its op."""

from __future__ import annotations

import contextlib
import io
import math
import re
import shutil
import subprocess

import pytest
from test_export import exact, shown

from autograd_lite import Value
from autograd_lite.export import export_graph
from autograd_lite.export.languages import LANGUAGES, printed
from autograd_lite.program import ReplayError, replay, trace
from autograd_lite.sums import sum_values, weighted_sum

INF, NAN = math.inf, math.nan
TINY = 5e-324  # the smallest subnormal


def build(op: str, args: list[Value]) -> Value:
    x = args[0]
    binary = {"+": Value.__add__, "-": Value.__sub__, "*": Value.__mul__,
              "/": Value.__truediv__, "**": Value.__pow__}  # fmt: skip
    if op in binary:
        return binary[op](x, args[1])
    if op == "leaky_relu":
        return x.leaky_relu(args[1])
    if op == "neg":
        return -x
    if op == "sum":
        return sum_values(args)
    if op == "weighted_sum":
        return weighted_sum(args[:2], args[2:4], args[4])
    return getattr(x, op)()


# op: (a safe point to trace at, [edge points]); every point's inputs are fed as parameters
EDGES = {
    "+": ((1.0, 2.0), [(1e308, 1e308), (-1e308, -1e308), (0.0, -0.0), (-0.0, -0.0), (TINY, -TINY)]),
    "-": ((1.0, 2.0), [(-1e308, 1e308), (0.0, 0.0), (-0.0, 0.0), (1e308, -1e308)]),
    "*": ((1.0, 2.0), [(1e200, 1e200), (1e-200, 1e-200), (-0.0, 5.0), (TINY, 0.5), (-1e300, 1e10)]),
    "/": ((1.0, 2.0), [(1.0, TINY), (1e308, 1e-10), (-0.0, 1.0), (TINY, 1e308), (1.0, 0.0),
                       (0.0, 0.0), (-1.0, -0.0)]),
    "**": ((2.0, 3.0), [(0.0, 0.0), (0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (-2.0, 3.0), (1e154, 2.0),
                        (2.0, -1075.0), (0.0, -1.0), (-2.0, 0.5), (10.0, 400.0), (1e155, 2.0),
                        (1e-200, -1.0), (-1e-200, -3.0)]),
    "neg": ((1.0,), [(0.0,), (-0.0,), (1e308,), (TINY,)]),
    "exp": ((1.0,), [(709.0,), (709.78,), (-745.0,), (-746.0,), (-0.0,), (709.79,), (1000.0,)]),
    "log": ((1.0,), [(TINY,), (1e-308,), (1e308,), (0.0,), (-0.0,), (-1.0,), (-TINY,)]),
    "sqrt": ((4.0,), [(0.0,), (-0.0,), (TINY,), (1e308,), (-TINY,), (-1.0,)]),
    "tanh": ((0.5,), [(0.0,), (-0.0,), (3.0,), (19.0,), (20.0,), (-25.0,), (800.0,), (TINY,)]),
    "sigmoid": ((0.5,), [(-800.0,), (-745.0,), (-0.0,), (36.0,), (37.0,), (40.0,), (800.0,)]),
    "relu": ((0.5,), [(0.0,), (-0.0,), (TINY,), (-TINY,), (1e308,)]),
    "leaky_relu": ((0.5, 0.01), [(0.0, 0.01), (-0.0, 0.5), (-1e308, 10.0), (TINY, 0.0),
                                 (-TINY, 0.5)]),
    "abs": ((0.5,), [(0.0,), (-0.0,), (-1e308,), (-TINY,)]),
    "sum": ((1.0, 2.0, 3.0), [(1e308, 1e308, -1e308), (1e16, 1.0, -1e16), (-0.0, -0.0, -0.0),
                              (TINY, TINY, -TINY)]),
    "weighted_sum": ((1.0, 2.0, 3.0, 4.0, 5.0), [(1e200, 1e200, 1e200, -1e200, 1.0),
                                                 (0.0, -0.0, 1e308, 1e308, -0.0)]),
}  # fmt: skip

# Non-finite numbers cannot be fed (run() refuses them as inputs): they enter as constants
# of the traced graph, the op applied to them there.
NON_FINITE = {
    "+": [(INF, -INF), (NAN, 1.0)], "*": [(INF, 0.0), (-INF, -2.0)], "/": [(INF, INF), (1.0, INF)],
    "**": [(INF, 0.5), (0.0, INF), (NAN, 0.0), (1.0, NAN), (-INF, 3.0)], "exp": [(INF,), (-INF,)],
    "log": [(INF,), (NAN,)], "sqrt": [(INF,), (NAN,)], "tanh": [(INF,), (-INF,), (NAN,)],
    "sigmoid": [(INF,), (-INF,), (NAN,)], "relu": [(INF,), (NAN,)],
    "leaky_relu": [(-INF, 0.1), (NAN, 0.1)], "abs": [(-INF,), (NAN,)], "neg": [(NAN,)],
    "sum": [(INF, -INF, 1.0), (INF, 1.0, 2.0)],
}  # fmt: skip

CASES = [(op, point) for op, (_, points) in EDGES.items() for point in points]


def engine(op: str, point: tuple[float, ...]) -> tuple[float, list[float]] | Exception:
    """The engine's value and gradients at ``point``, or its error (named, never bare)."""
    leaves = [Value(v) for v in point]
    try:
        out = build(op, leaves)
    except (ArithmeticError, ValueError) as error:
        return error
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def same(got: float, want: float, exact_bits: bool) -> bool:
    got = float(got)
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if exact_bits or math.isinf(want) or want == 0.0:
        return got == want
    return abs(got - want) <= 1e-12 * abs(want)


def test_the_engine_names_every_error_at_the_edges():
    for op, point in CASES:
        found = engine(op, point)
        if isinstance(found, Exception):
            name = {"neg": "neg"}.get(op, op)
            assert str(found).startswith(f"{name}: "), (op, point, found)
            assert "Numerical result out of range" not in str(found)


def test_the_slope_of_a_power_overflowing_is_the_engines_named_error():
    with pytest.raises(OverflowError, match=r"^\*\*: its slope y·x\^\(y-1\) is too large"):
        Value(1e-200) ** -1.0
    with pytest.raises(ValueError, match=r"^\*: a number operand must be within float range"):
        Value(2.0) * 10**400
    # the value itself is 1e200: 1 / x, which has no such slope to compute, gives it
    assert (1.0 / Value(1e-200)).data == 1e200


@pytest.mark.parametrize("op", sorted(EDGES))
def test_replays_at_the_edges_give_the_engines_numbers_or_its_error(op, backend):
    safe, points = EDGES[op]
    leaves = [Value(v) for v in safe]
    step = replay(trace(build(op, leaves), params=leaves), backend)
    for point in points:
        want = engine(op, point)
        if isinstance(want, Exception):
            with pytest.raises(ReplayError, match=rf"^replay: {re.escape(op)} at node"):
                step.run(params=list(point))
            continue
        result = step.run(params=list(point))
        exact_bits = backend != "numpy"
        assert same(result.loss, want[0], exact_bits), (op, point, result.loss, want[0])
        for got, expected in zip(result.gradients, want[1]):
            assert same(got, expected, exact_bits), (op, point, list(result.gradients), want[1])


@pytest.mark.parametrize("op", sorted(NON_FINITE))
def test_replays_of_infinities_and_nan_give_the_engines_numbers(op, backend):
    for point in NON_FINITE[op]:
        leaves = [Value(v) for v in point]
        w = Value(1.5, "w")
        try:
            out = build(op, leaves) * w
        except (ArithmeticError, ValueError):
            continue  # refused by the engine: nothing to trace
        out.backward()
        result = replay(trace(out, params=[w]), backend).run(params=[1.5])
        assert same(result.loss, out.data, True) and same(result.gradients[0], w.grad, True), (
            op, point, result, out.data, w.grad,
        )  # fmt: skip


def run_file(language: str, source: str, tmp_path) -> tuple[str, str]:
    """(what the file printed, the error it stopped with: "" or "Type: message")."""
    if language == "python":
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(source, "exported.py", "exec"), {"__name__": "__main__"})
        except (ArithmeticError, ValueError) as error:
            return out.getvalue(), f"{type(error).__name__}: {error}"
        return out.getvalue(), ""
    if language == "c":
        compiler = shutil.which("cc")
        if compiler is None:
            pytest.skip("no C compiler")
        path, program = tmp_path / "edge.c", tmp_path / "edge"
        path.write_text(source, encoding="utf-8")
        subprocess.run([compiler, "-std=c99", "-o", str(program), str(path), "-lm"], check=True)
        command = [str(program)]
    else:
        node = shutil.which("node")
        if node is None:
            pytest.skip("no node")
        path = tmp_path / "edge.js"
        path.write_text(source, encoding="utf-8")
        command = [node, str(path)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout, done.stderr.strip() if done.returncode else ""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("op", sorted(EDGES))
def test_exported_files_at_the_edges_print_the_engines_numbers_or_stop_with_its_error(
    op, language, tmp_path
):
    """Every edge point the engine computes, one graph per op (each term an op at one edge
    point times a weight of its own): the file prints the engine's error and gradients;
    then, after one step of gradient descent (lr 0.5), the engine's error or, where the
    step lands where the engine refuses, the engine's error (type and op)."""
    terms, leaves = [], []
    for k, point in enumerate(EDGES[op][1]):
        if isinstance(engine(op, point), Exception):
            continue
        inputs = [Value(v, f"p{k}_{j}") for j, v in enumerate(point)]
        w = Value(1.0, f"w{k}")
        leaves += [*inputs, w]
        terms.append(build(op, inputs) * w)
    loss = sum_values(terms) if len(terms) > 1 else terms[0]
    source = export_graph(loss, leaves, language, lr=0.5)
    output, error = run_file(language, source, tmp_path)
    numbers = shown(output)
    loss.backward()
    bits = exact(language, source)
    wanted = {"E": loss.data, **{f"dE/d{leaf.label}": leaf.grad for leaf in leaves}}
    for name, want in wanted.items():
        got = numbers[name]
        assert got == printed(want) or (not bits and same(float(got), want, False)), (
            op, name, got, want,
        )  # fmt: skip
    for leaf in leaves:  # the step, then the engine on the new numbers
        leaf.data = leaf.data - 0.5 * leaf.grad
    try:
        again = sum_values([build(op, t.inputs[0].inputs) * t.inputs[1] for t in terms]) if len(
            terms) > 1 else build(op, terms[0].inputs[0].inputs) * terms[0].inputs[1]  # fmt: skip
    except (ArithmeticError, ValueError) as refusal:
        kind = type(refusal).__name__
        assert error.startswith(f"{kind}: {op}: "), (op, language, error, refusal)
        return
    assert error == "", (op, language, error)
    got = numbers["E after one step"]
    assert got == printed(again.data) or (not bits and same(float(got), again.data, False))


# --- export_graph's own edges --------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_export_graph_writes_any_graph(language, tmp_path):
    """A loss that reaches no parameter, a loss that is a parameter itself, and labels that
    are the names of helpers, library functions and builtins: each file runs and prints
    the engine's numbers."""
    w, c = Value(0.5, "w"), Value(2.0, "c")
    output, error = run_file(language, export_graph(c * 3.0, [w], language), tmp_path)
    assert (output, error) == ("E = 6.0\ndE/dw = 0.0\nE after one step = 6.0\n", "")
    output, error = run_file(language, export_graph(w, [w], language), tmp_path)
    assert (output, error) == ("E = 0.5\ndE/dw = 1.0\nE after one step = 0.0\n", "")
    names = ["relu_forward", "sin", "exit", "exact_sum", "len", "console", "refuse",
             "power_check", "log_check", "sigmoid_forward", "dE_dsin", "v3"]  # fmt: skip
    leaves = [Value(0.1 * (k + 1), name) for k, name in enumerate(names)]
    a = leaves
    loss = ((a[0].relu() * a[1] + a[2]).tanh() * a[3] + a[4] * a[5].log()) ** 2.0
    loss = loss + a[6].sigmoid() * a[7] ** a[8] + a[9].exp() + a[10] * a[11]
    source = export_graph(loss, leaves, language)
    output, error = run_file(language, source, tmp_path)
    loss.backward()
    numbers = shown(output)
    assert error == "" and numbers["E"] == printed(loss.data) or not exact(language, source)
    gradients = [float(v) for k, v in numbers.items() if k.startswith("dE/d")]
    assert gradients == pytest.approx([leaf.grad for leaf in leaves], rel=1e-12)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_step_into_a_refusal_stops_the_file_with_the_engines_error(language, tmp_path):
    """log(p) at p = 0.5 has slope 2: one step with lr 0.5 lands on p = -0.5, where the
    engine refuses; the file says so rather than printing NaN."""
    p = Value(0.5, "p")
    output, error = run_file(language, export_graph(p.log() + p, [p], language), tmp_path)
    assert output.startswith("E = -0.1931471805599453\ndE/dp = 3.0\n")
    with pytest.raises(ValueError, match=r"^log: needs x > 0"):
        Value(0.5 - 0.5 * 3.0).log()
    assert error.startswith("ValueError: log: needs x > 0"), error


@pytest.mark.parametrize("language", LANGUAGES)
def test_exports_sum_as_the_engine_rounds(language, tmp_path):
    """A sum with cancellation (exact: 1.0, left to right: 0.0), a weighted sum and a node
    read three times (its gradient adds three shares): the file prints the engine's digits."""
    a, b, c = Value(1e16, "a"), Value(1.0, "b"), Value(-1e16, "c")
    s = sum_values([a * 1.0, b * 1.0, c * 1.0, b * 1e-16])
    z = weighted_sum([a, b, c], [Value(1e-16, "u"), Value(3.0, "v"), Value(1e-16, "t")], b)
    loss = s * z + b * b * b
    source = export_graph(loss, [a, b, c], language)
    numbers = shown(run_file(language, source, tmp_path)[0])
    loss.backward()
    assert numbers["E"] == printed(loss.data)
    assert [numbers[f"dE/d{v.label}"] for v in (a, b, c)] == [printed(v.grad) for v in (a, b, c)]
