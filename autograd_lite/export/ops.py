"""Each engine op written out in a language, from the one table of formulas.

The math comes from ``autograd_lite.program.formulas`` (the forward rule and the local
derivative of every op, as data); this module only decides how it reads in a file:

* a formula without a branch is written in place: ``math.tanh(L0_n0_z)``,
  ``(1.0 - (L0_n0_a * L0_n0_a))``;
* a formula with a branch (relu, sigmoid's two overflow-safe forms, ...) becomes a small
  function defined once at the top of the file, ``relu_forward(x)`` and
  ``relu_derivative(x)``, so that each line of the passes stays short.

>>> ops = OpWriter("python")
>>> ops.forward("tanh", ["L0_n0_z"])
'math.tanh(L0_n0_z)'
>>> ops.derivative("tanh", 0, ["L0_n0_z"], "L0_n0_a")
'(1.0 - (L0_n0_a * L0_n0_a))'
>>> ops.forward("relu", ["z"]), ops.derivative("relu", 0, ["z"], "a")
('relu_forward(z)', 'relu_derivative(z)')
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Sequence

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


def is_constant(expression: str) -> float | None:
    """The number a rendered expression is, if it is a plain number (``'1.0'`` -> 1.0)."""
    try:
        return float(expression)
    except ValueError:
        return None


class OpWriter:
    """Renders forward and derivative expressions for one language and remembers which
    helper functions the file needs (written by ``define_helpers``)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.helpers: dict[str, tuple[str, list[str], object, str]] = {}
        self.exact_sums = False  # a Python file with a sum node needs exact_sum (below)

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
        """d(out)/d(input ``index``) of ``op``: its local derivative, as an expression."""
        if op in NARY:
            return self._nary_derivative(op, index, inputs)
        formula = FORMULAS[op]
        expr = formula.derivatives[index]
        names = {**dict(zip(formula.inputs, inputs)), "out": out}
        if _branches(expr):
            suffix = "" if len(formula.inputs) == 1 else f"_{formula.inputs[index]}"
            wrt = "its input" if len(formula.inputs) == 1 else formula.inputs[index]
            doc = f"{op}: local derivative d(out)/d({wrt})"
            if formula.why:
                doc += f" ({formula.why})"
            return self._use(f"{op_name(op)}_derivative{suffix}", expr, names, doc)
        return render(expr, self.language, names)

    def _nary_forward(self, op: str, inputs: Sequence[str]) -> str:
        formula = NARY[op]
        if op == "sum":
            terms = [render(formula.term, self.language, {"x": x}) for x in inputs]
            if formula.exact and self.language == "python":  # the engine's own rounding
                self.exact_sums = True
                return f"exact_sum([{', '.join(terms)}])"
            return " + ".join(terms)
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
        if self.exact_sums:
            w.blank(w.around_functions)
            for line in _exact_sum_function():
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
