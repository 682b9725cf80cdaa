"""Each engine op written out in a language, from the one table of formulas.

The math comes from ``autograd_lite.program.formulas`` (the forward rule and the local
derivative of every op, as data); this module only decides how it reads in a file:

* a formula without a branch is written in place: ``math.tanh(L0_n0_z)``,
  ``(1.0 - (L0_n0_a * L0_n0_a))``;
* a formula with a branch (relu, sigmoid's two overflow-safe forms, ...) becomes a small
  function defined once at the top of the file, ``relu_forward(x)`` and
  ``relu_derivative(x)``, so that each line of the passes stays short;
* an input that is a number written in the code is put into the formula, and what that
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
import operator
import re
from collections.abc import Mapping, Sequence

from autograd_lite.export.languages import Writer
from autograd_lite.names import weighted_sum_parts
from autograd_lite.program.formulas import FORMULAS, NARY, render
from autograd_lite.sums import exact_sum

# identifiers for ops whose name is a symbol
_OP_NAMES = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "**": "power"}
_VARIABLES = ("x", "y", "out")


def _variables(expr: object) -> list[str]:
    """The variables ``expr`` uses, in the order x, y, out (an iterative walk)."""
    found, stack = set(), [expr]
    while stack:
        part = stack.pop()
        if isinstance(part, tuple):
            stack.extend(part[1:])
        elif isinstance(part, str):
            found.add(part)
    return [v for v in _VARIABLES if v in found]


def _branches(expr: object) -> bool:
    stack = [expr]
    while stack:
        part = stack.pop()
        if isinstance(part, tuple):
            if part[0] == "if":
                return True
            stack.extend(part[1:])
    return False


def op_name(op: str) -> str:
    """An identifier for ``op``: ``**`` is ``power``."""
    return _OP_NAMES.get(op, op)


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
    so the formula still reads as one.

    >>> specialize(FORMULAS["**"].derivatives[0], {"y": 2.0})
    ('*', 2.0, 'x')
    >>> specialize(FORMULAS["**"].derivatives[1], {"x": 1.5})
    ('*', 'out', ('log', 1.5))
    """
    done: dict[int, object] = {}
    stack = [expr]
    while stack:  # post-order, without recursion (the project's rule)
        node = stack[-1]
        if not isinstance(node, tuple):
            stack.pop()
            done[id(node)] = values.get(node, node) if isinstance(node, str) else node
            continue
        pending = [part for part in node[1:] if id(part) not in done]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        done[id(node)] = _simplified(node[0], [done[id(part)] for part in node[1:]])
    return done[id(expr)]


class OpWriter:
    """Renders forward and derivative expressions for one language and remembers which
    helper functions the file needs (written by ``define_helpers``)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.helpers: dict[str, tuple[str, list[str], object, str]] = {}
        self.exact_sum_size = 0  # the most terms of a sum written with exact_sum (below)

    def _use(self, name: str, expr: object, arguments: dict[str, str], doc: str) -> str:
        parameters = _variables(expr)
        self.helpers.setdefault(name, (name, parameters, expr, doc))
        return f"{name}({', '.join(arguments[p] for p in parameters)})"

    def forward(self, op: str, inputs: Sequence[str]) -> str:
        """The expression that computes ``op`` from the input expressions."""
        if op in NARY:
            return self._nary_forward(op, inputs)
        formula = FORMULAS[op]
        names = dict(zip(formula.inputs, inputs))
        if _branches(formula.forward):
            doc = f"{op}: the forward rule ({formula.why})" if formula.why else f"{op}: forward"
            return self._use(f"{op_name(op)}_forward", formula.forward, names, doc)
        return _unwrap(render(formula.forward, self.language, names))

    def derivative(self, op: str, index: int, inputs: Sequence[str], out: str) -> str:
        """d(out)/d(input ``index``) of ``op``: its local derivative, as an expression that
        can stand left of ``* upstream``."""
        if op in NARY:
            return self._nary_derivative(op, index, inputs)
        formula = FORMULAS[op]
        expr = formula.derivatives[index]
        names = {**dict(zip(formula.inputs, inputs)), "out": out}
        known = {v: c for v, name in names.items() if (c := is_constant(name)) is not None}
        if known and not _branches(specialized := specialize(expr, known)):
            return self._factor(specialized, names)  # e1 ** 2.0: 2 * e1
        if _branches(expr):
            suffix = "" if len(formula.inputs) == 1 else f"_{formula.inputs[index]}"
            wrt = "its input" if len(formula.inputs) == 1 else formula.inputs[index]
            doc = f"{op}: local derivative d(out)/d({wrt})"
            if formula.why:
                doc += f" ({formula.why})"
            return self._use(f"{op_name(op)}_derivative{suffix}", expr, names, doc)
        return self._factor(expr, names)

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

    def _nary_forward(self, op: str, inputs: Sequence[str]) -> str:
        formula = NARY[op]
        if op == "sum":
            terms = [render(formula.term, self.language, {"x": x}) for x in inputs]
            # Two numbers: the exact sum rounded once is what + gives (the zero of
            # -0.0 + -0.0 aside, which prints as 0.0). More: the engine's own rounding.
            if not formula.exact or len(terms) == 2:
                return " + ".join(terms)
            self.exact_sum_size = max(self.exact_sum_size, len(terms))
            if self.language == "c":  # an array written in place (C99)
                return f"exact_sum((const double[]){{{', '.join(terms)}}}, {len(terms)})"
            return f"exact_sum([{', '.join(terms)}])"
        parts = weighted_sum_parts(inputs)
        terms = [
            render(formula.term, self.language, {"w": w, "a": a})
            for w, a in zip(parts.weights, parts.activations)
        ]
        start = render(formula.start, self.language, {"b": parts.bias})
        return " + ".join([start, *terms])  # left to right from b, as the engine adds

    def weighted_sum_loop(self, bias: str, weight: str, activation: str) -> tuple[str, str]:
        """(start, term) of a weighted sum written as a loop: z starts at ``start`` and adds
        ``term`` for each input, left to right, as the engine does."""
        formula = NARY["weighted_sum"]
        start = render(formula.start, self.language, {"b": bias})
        term = render(formula.term, self.language, {"w": weight, "a": activation})
        return start, _unwrap(term)

    def _nary_derivative(self, op: str, index: int, inputs: Sequence[str]) -> str:
        formula = NARY[op]
        if op == "sum":
            return render(formula.derivatives["x"], self.language, {"x": inputs[index]})
        n = (len(inputs) - 1) // 2
        if index == len(inputs) - 1:
            return render(formula.derivatives["b"], self.language)
        i = index % n
        group = "w" if index < n else "a"
        names = {"w": inputs[i], "a": inputs[n + i]}
        return render(formula.derivatives[group], self.language, names)

    def define_helpers(self, w: Writer) -> None:
        """Write the helper functions used so far (sorted by name) into ``w``."""
        for name, parameters, expr, doc in sorted(self.helpers.values()):
            body = render(expr, self.language)
            w.function_returning(name, parameters, body, doc)
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
    """``sums.exact_sum`` as a Python file writes it (its code, without type hints), so the
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


# sums.exact_sum in C and JavaScript: math.fsum as CPython computes it (Shewchuk's partials,
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
