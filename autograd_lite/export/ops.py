"""Each engine op written out in a language, from the op's own forward and rule.

The math comes from ``autograd_lite.expressions`` (the forward and the local derivatives of
every op, read off the engine's functions as expressions); this module only decides how it
reads in a file:

* an expression without a branch is written in place: ``math.tanh(L0_n0_z)``,
  ``(1.0 - (L0_n0_a * L0_n0_a))``;
* an expression with a branch (relu, sigmoid's two overflow-safe forms, ...) becomes a
  small function defined once at the top of the file, ``relu_forward(x)`` and
  ``relu_derivative(x)``, so that each line of the passes stays short;
* an input that is a number written in the code is put into the expression, and what that
  decides is worked out (``specialize``): the power rule y·x^(y−1) of ``e1 ** 2.0`` is
  ``2 * e1``, the same double as the engine's ``2.0 * e1 ** 1.0``.

A local derivative is written so that ``local * upstream`` reads as the comment's
``∂a/∂z × ∂E/∂a`` and multiplies in that order.

>>> ops = OpWriter("python")
>>> ops.forward("tanh", ["L0_n0_z"])
'math.tanh(L0_n0_z)'
>>> ops.derivative("tanh", 0, ["L0_n0_z"], "L0_n0_a")
'(1.0 - (L0_n0_a * L0_n0_a))'
>>> ops.derivative("sigmoid", 0, ["L0_n0_z"], "L0_n0_a")
'L0_n0_a * (1.0 - L0_n0_a)'
>>> ops.forward("relu", ["z"]), ops.derivative("relu", 0, ["z"], "a")
('relu_forward(z)', 'relu_derivative(z)')
>>> ops.derivative("**", 0, ["e1", "2.0"], "e1_2"), ops.derivative("**", 0, ["e1", "3.0"], "c")
('2 * e1', '3 * math.pow(e1, 2.0)')
"""

from __future__ import annotations

import ast
import inspect
import math
import operator
import re
from collections.abc import Mapping, Sequence

from autograd_lite.elementary import exact_sum
from autograd_lite.export.languages import Writer
from autograd_lite.expressions import (
    OUT,
    FoldExpressions,
    OpExpressions,
    expressions,
    replayable_ops,
)
from autograd_lite.program.render import render
from autograd_lite.symbolic import fold, variables

# identifiers for ops whose name is a symbol
_OP_NAMES = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "**": "power"}


def _branches(expr: object) -> bool:
    return fold(expr, lambda part: False, lambda part, parts: part[0] == "if" or any(parts))


def _checkable_first(condition: object) -> bool:
    """True when Python can test ``condition`` before the op runs: it reads the inputs
    only, through arithmetic and comparisons (no math function that could raise)."""
    calls = fold(
        condition,
        lambda part: part == OUT,
        lambda part, parts: part[0] in ("exp", "log", "sqrt", "pow", "tanh") or any(parts),
    )
    return not calls


def op_name(op: str) -> str:
    """An identifier for ``op``: ``**`` is ``power``."""
    return _OP_NAMES.get(op, op)


def helper_names() -> set[str]:
    """Every name a helper function of an op may have in a file (``relu_forward``,
    ``power_derivative_x``): no node may be named so.

    >>> {"relu_forward", "power_derivative_y"} <= helper_names()
    True
    """
    names = set()
    for op in replayable_ops():
        found = expressions(op)
        inputs = found.inputs if isinstance(found, OpExpressions) else found.groups
        names |= {f"{op_name(op)}_{part}" for part in ("forward", "derivative", "check")}
        names |= {f"{op_name(op)}_derivative_{name}" for name in inputs}
    return names


_NUMBER = re.compile(r"-?\d+(\.\d*)?(e[-+]?\d+)?")


def is_constant(expression: str) -> float | None:
    """The number a rendered expression is, if it is a number written in the code, as
    ``number`` or ``straight.literal`` write them; None for anything else (a variable named
    ``inf`` too).

    >>> is_constant("1.0"), is_constant("(-1e-07)"), is_constant("inf"), is_constant("x")
    (1.0, -1e-07, None, None)
    """
    if expression.startswith("(") and expression.endswith(")"):
        expression = expression[1:-1]
    return float(expression) if _NUMBER.fullmatch(expression) else None


# What ``specialize`` works out when every operand is a number: each is one IEEE operation,
# so the file gets the double the engine computes at run time.
_WORKED_OUT = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip


def _is(part: object, number: float) -> bool:
    return isinstance(part, float) and part == number  # not True == 1.0


def _simplified(operator_: str, parts: list) -> object:
    """(operator_, *parts) with what its known parts decide worked out."""
    numbers = all(isinstance(p, float) for p in parts)
    if operator_ in _WORKED_OUT and numbers and not (operator_ == "/" and parts[1] == 0.0):
        return _WORKED_OUT[operator_](*parts)
    if operator_ == "neg" and numbers:
        return -parts[0]
    if operator_ in ("abs", "floor") and numbers and math.isfinite(parts[0]):  # exact
        return abs(parts[0]) if operator_ == "abs" else float(math.floor(parts[0]))
    if operator_ == "not" and isinstance(parts[0], bool):
        return not parts[0]
    if operator_ in ("and", "or"):
        decisive = operator_ == "or"  # True decides an or, False an and
        if any(p is decisive for p in parts):
            return decisive
        rest = [p for p in parts if p is not (not decisive)]
        return rest[0] if len(rest) == 1 else (not decisive) if not rest else (operator_, *rest)
    if operator_ == "if" and isinstance(parts[0], bool):
        return parts[1] if parts[0] else parts[2]
    # exact at every x, NaN and infinities included: x^1 = x, x^0 = 1, 1·x = x
    if operator_ == "pow" and _is(parts[1], 1.0):
        return parts[0]
    if operator_ == "pow" and _is(parts[1], 0.0):
        return 1.0
    if operator_ == "*" and (_is(parts[0], 1.0) or _is(parts[1], 1.0)):
        return parts[1] if _is(parts[0], 1.0) else parts[0]
    return (operator_, *parts)


def specialize(expr: object, values: Mapping[str, float]) -> object:
    """``expr`` with the variables of ``values`` replaced by those numbers, and what that
    decides worked out: arithmetic on numbers, comparisons, ``and``/``or``/``if`` with a
    known condition, x^1 = x, x^0 = 1, 1·x = x. Functions (exp, log, ...) stay as they are,
    so the expression still reads as one.

    >>> specialize(expressions("**").derivatives[0], {"y": 2.0})
    ('*', 2.0, 'x')
    >>> specialize(expressions("**").derivatives[1], {"x": 1.5})
    ('*', 'out', ('log', 1.5))
    """
    return fold(
        expr,
        lambda part: values.get(part, part) if isinstance(part, str) else part,
        lambda part, parts: _simplified(part[0], parts),
    )


class OpWriter:
    """Renders forward and derivative expressions for one language and remembers which
    helper functions the file needs (written by ``define_helpers``)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.helpers: dict[str, tuple[str, list[str], object, str]] = {}
        self.exact_sum_size = 0  # the most terms of a sum written with exact_sum (below)
        self.checks: dict[str, tuple[str, list[str], list, str]] = {}  # where ops refuse

    def _use(
        self, name: str, expr: object, arguments: dict[str, str], order: Sequence[str], doc: str
    ) -> str:
        used = variables(expr)
        parameters = [v for v in order if v in used]
        self.helpers.setdefault(name, (name, parameters, expr, doc))
        return f"{name}({', '.join(arguments[p] for p in parameters)})"

    def forward(self, op: str, inputs: Sequence[str]) -> str:
        """The expression that computes ``op`` from the input expressions."""
        found = expressions(op)
        if isinstance(found, FoldExpressions):
            return self._fold_forward(found, inputs)
        names = dict(zip(found.inputs, inputs))
        if _branches(found.forward):
            doc = f"{op}: the forward rule. {found.forward_about}".strip()
            return self._use(f"{op_name(op)}_forward", found.forward, names, found.inputs, doc)
        return _unwrap(render(found.forward, self.language, names))

    def derivative(self, op: str, index: int, inputs: Sequence[str], out: str) -> str:
        """d(out)/d(input ``index``) of ``op``: its local derivative, as an expression that
        can stand left of ``* upstream``."""
        found = expressions(op)
        if isinstance(found, FoldExpressions):
            return self._fold_derivative(found, index, inputs)
        expr = found.derivatives[index]
        names = {**dict(zip(found.inputs, inputs)), OUT: out}
        known = {v: c for v, name in names.items() if (c := is_constant(name)) is not None}
        if known and not _branches(specialized := specialize(expr, known)):
            return self._factor(specialized, names)  # e1 ** 2.0: 2 * e1
        if _branches(expr):
            one = len(found.inputs) == 1
            name = f"{op_name(op)}_derivative{'' if one else '_' + found.inputs[index]}"
            doc = f"{op}: local derivative d(out)/d({'its input' if one else found.inputs[index]})"
            doc += f"; the rule says: {found.about}" if found.about else ""
            return self._use(name, expr, names, (*found.inputs, OUT), doc)
        return self._factor(expr, names)

    def check(self, op: str, inputs: Sequence[str], out: str) -> str | None:
        """The call that stops the file where the engine refuses ``op`` on these inputs
        (``log_check(p)``, a helper written once), or None where numbers written in the code
        leave no such case. A Python file checks before the op runs, and only what it can
        test without raising (no ``out``, no math function: ``y == 0.0`` before ``x / y``);
        where Python's own math raises (exp's overflow) it raises the engine's type of error
        by itself. C and JavaScript check after (they would go on with inf or NaN).

        >>> OpWriter("c").check("log", ["p"], "v1"), OpWriter("python").check("exp", ["p"], "v1")
        ('log_check(p)', None)
        >>> OpWriter("c").check("**", ["e0", "2.0"], "e0_2")
        'power_check(e0, 2.0, e0_2)'
        """
        found = expressions(op)
        if isinstance(found, FoldExpressions) or not found.refusals:
            return None
        names = {**dict(zip(found.inputs, inputs)), OUT: out}
        known = {v: c for v, name in names.items() if (c := is_constant(name)) is not None}
        grouped: dict[tuple[str, str], object] = {}
        for condition, text in found.refusals:
            # the forward's own expression (pow(x, y) of **) is out, computed already
            condition = fold(
                condition,
                lambda part: part,
                lambda part, parts: OUT if part == found.forward else (part[0], *parts),
            )
            if self.language == "python" and not _checkable_first(condition):
                continue
            error, _, rest = text.partition(": ")
            key = (error, rest.split("; got ")[0])
            grouped[key] = ("or", grouped[key], condition) if key in grouped else condition
        cases = [(condition, error, reason) for (error, reason), condition in grouped.items()]
        if not any(specialize(c, known) is not False for c, _, _ in cases):
            return None
        name = f"{op_name(op)}_check"
        order = (*found.inputs, OUT)
        used = set().union(*(variables(c) for c, _, _ in cases))
        parameters = [v for v in order if v in used]
        self.checks.setdefault(name, (name, parameters, cases, op))
        return f"{name}({', '.join(names[p] for p in parameters)})"

    def _factor(self, expr: object, names: dict[str, str]) -> str:
        """``expr`` written to stand left of ``* upstream``: a product, a quotient or a
        negation needs no parentheses there (``a * (1.0 - a) * g`` multiplies left to
        right), and a whole-number factor is written as one (``2 * e1``, as in the notes)."""
        if not isinstance(expr, tuple):
            return render(expr, self.language, names)
        if expr[0] == "*" and isinstance(expr[1], float) and expr[1].is_integer():
            if 0 < expr[1] < 2**53:  # exactly that double in every language
                return f"{int(expr[1])} * {render(expr[2], self.language, names)}"
        text = render(expr, self.language, names)
        return _unwrap(text) if expr[0] in ("*", "/", "neg") else text

    @staticmethod
    def _fold_names(found: FoldExpressions, inputs: Sequence[str], i: int) -> dict[str, str]:
        """Each group's name -> its input: a list's element ``i``, or the single input."""
        return {
            group: inputs[first + (i if many else 0)]
            for group, many, (first, _) in zip(found.groups, found.many, found.layout(len(inputs)))
        }

    def _fold_forward(self, found: FoldExpressions, inputs: Sequence[str]) -> str:
        n = found.layout(len(inputs))[found.many.index(True)][1]
        terms = [
            render(found.term, self.language, self._fold_names(found, inputs, i)) for i in range(n)
        ]
        if not found.exact:  # left to right from the start, as the engine adds
            start = render(found.start, self.language, self._fold_names(found, inputs, 0))
            return " + ".join([start, *terms])
        # Two numbers: the exact sum rounded once is what + gives (the zero of -0.0 + -0.0
        # aside, which prints as 0.0). More: the engine's own rounding.
        if len(terms) <= 2:
            return " + ".join(terms)
        self.exact_sum_size = max(self.exact_sum_size, len(terms))
        if self.language == "c":  # an array written in place (C99)
            return f"exact_sum((const double[]){{{', '.join(terms)}}}, {len(terms)})"
        return f"exact_sum([{', '.join(terms)}])"

    def weighted_sum_loop(self, bias: str, weight: str, activation: str) -> tuple[str, str]:
        """(start, term) of a weighted sum written as a loop: z starts at ``start`` and adds
        ``term`` for each input, left to right, as the engine does."""
        found = expressions("weighted_sum")
        assert isinstance(found, FoldExpressions)
        names = dict(zip(found.groups, (weight, activation, bias)))  # its groups: w, a, b
        start = render(found.start, self.language, names)
        return start, _unwrap(render(found.term, self.language, names))

    def _fold_derivative(self, found: FoldExpressions, index: int, inputs: Sequence[str]) -> str:
        for derivative, (first, length) in zip(found.derivatives, found.layout(len(inputs))):
            if first <= index < first + length:
                names = self._fold_names(found, inputs, index - first)
                return render(derivative, self.language, names)
        raise IndexError(f"{found.op}: no input {index} among {len(inputs)}")

    def define_helpers(self, w: Writer) -> None:
        """Write the helper functions used so far (sorted by name) into ``w``."""
        for name, parameters, expr, doc in sorted(self.helpers.values()):
            body = render(expr, self.language)
            w.function_returning(name, parameters, body, doc)
        if self.checks and self.language != "python":
            w.define_refuse()  # before the checks that call it (C declares before use)
        for name, parameters, cases, op in sorted(self.checks.values()):
            rendered = [(render(c, self.language), error, reason) for c, error, reason in cases]
            w.check_function(name, parameters, rendered, f"{op}: stop where the engine refuses")
        if self.exact_sum_size:
            w.blank(w.around_functions)
            if self.language == "python":
                lines = _exact_sum_function()
            else:
                lines = _EXACT_SUM[self.language].replace("SIZE", str(self.exact_sum_size))
                lines = lines.strip().splitlines()
            for line in lines:
                w.line(line)
            w.blank(w.around_functions)


def _exact_sum_function() -> list[str]:
    """``elementary.exact_sum`` as a Python file writes it (its code, without type hints), so the
    file sums as the engine does: ``math.fsum`` alone raises where the engine gives inf."""
    function = ast.parse(inspect.getsource(exact_sum)).body[0]
    assert isinstance(function, ast.FunctionDef)
    function.body[0] = ast.Expr(ast.Constant(_EXACT_SUM_DOC))
    function.returns = None
    for argument in function.args.args:
        argument.annotation = None
    return ast.unparse(function).splitlines()


_EXACT_SUM_DOC = (
    "sum: the exact sum, rounded once (math.fsum), as the engine adds; where fsum gives up\n"
    "    (inf - inf, a partial sum past the largest float), left to right: inf or NaN, as\n"
    "    the engine gives, not an error."
)


# elementary.exact_sum in C and JavaScript: math.fsum as CPython computes it (Shewchuk's partials,
# one rounding at the end, half to even), and the engine's left-to-right sum where fsum
# gives up. SIZE is the most terms of a sum in the file (at most one partial per term).
_EXACT_SUM = {
    "c": r"""
/* sum: the exact sum, rounded once, as the engine adds (Python's math.fsum); where fsum
   gives up (inf or NaN among the values, a partial sum past the largest double), left to
   right, as the engine does then. */
static double left_to_right(const double *values, int count) {
    double total = 0.0;
    for (int k = 0; k < count; k++) total += values[k];
    return total;
}

static double exact_sum(const double *values, int count) {
    double partials[SIZE]; /* exact, not overlapping: together they are the sum so far */
    double hi, lo = 0.0;
    int n = 0;
    for (int k = 0; k < count; k++) {
        double x = values[k];
        int kept = 0;
        if (!isfinite(x)) return left_to_right(values, count);
        for (int j = 0; j < n; j++) { /* x + partial = hi + lo, exactly */
            double y = partials[j];
            if (fabs(x) < fabs(y)) {
                y = x;
                x = partials[j];
            }
            hi = x + y;
            lo = y - (hi - x);
            if (lo != 0.0) partials[kept++] = lo;
            x = hi;
        }
        if (!isfinite(x)) return left_to_right(values, count);
        n = kept;
        if (x != 0.0) partials[n++] = x;
    }
    if (n == 0) return 0.0;
    hi = partials[--n]; /* add from the largest partial down until one rounding happens */
    while (n > 0) {
        double x = hi, y = partials[--n];
        hi = x + y;
        lo = y - (hi - x);
        if (lo != 0.0) break;
    }
    /* exactly half-way between two doubles: the partials below decide, as in fsum */
    if (n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0))) {
        double y = lo * 2.0, x = hi + y;
        if (y == x - hi) hi = x;
    }
    return hi;
}
""",
    "javascript": r"""
// sum: the exact sum, rounded once, as the engine adds (Python's math.fsum); where fsum
// gives up (inf or NaN among the values, a partial sum past the largest double), left to
// right, as the engine does then.
function exact_sum(values) {
    const leftToRight = () => values.reduce((total, value) => total + value, 0);
    const partials = [];  // exact, not overlapping: together they are the sum so far
    for (let x of values) {
        if (!Number.isFinite(x)) return leftToRight();
        let kept = 0;
        for (let j = 0; j < partials.length; j++) {  // x + partial = hi + lo, exactly
            let y = partials[j];
            if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
            const hi = x + y;
            const lo = y - (hi - x);
            if (lo !== 0) partials[kept++] = lo;
            x = hi;
        }
        if (!Number.isFinite(x)) return leftToRight();
        partials.length = kept;
        if (x !== 0) partials.push(x);
    }
    let n = partials.length;
    if (n === 0) return 0;
    let hi = partials[--n];  // add from the largest partial down until one rounding happens
    let lo = 0;
    while (n > 0) {
        const x = hi;
        const y = partials[--n];
        hi = x + y;
        lo = y - (hi - x);
        if (lo !== 0) break;
    }
    // exactly half-way between two doubles: the partials below decide, as in fsum
    if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
        const y = lo * 2;
        const x = hi + y;
        if (y === x - hi) hi = x;
    }
    return hi;
}
""",
}


def _unwrap(expression: str) -> str:
    """Drop one pair of outer parentheses when they enclose the whole expression."""
    if not (expression.startswith("(") and expression.endswith(")")):
        return expression
    depth = 0
    for k, char in enumerate(expression):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and k < len(expression) - 1:
            return expression
    return expression[1:-1]
