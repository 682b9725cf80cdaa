"""Every engine op's forward and local-derivative rule, as data, with a renderer per language.

The engine (``engine.py``) is the source of truth: each op there is a method (its forward
rule) and a derivative rule. This table says the same thing once more, as small expressions
that can be written out in Python, NumPy, C or JavaScript, so that a replayed or exported
program computes what the engine computes. ``tests/test_program_ops.py`` checks every entry
against the engine's own rules, at ordinary points and at the edges each rule special-cases.

An expression is a variable name (``"x"``, ``"y"``, ``"out"``), a float, or a tuple
``(operator, *operands)``. Operators: ``+ - * /`` (two operands), ``neg``, ``pow``,
``exp``, ``log``, ``sqrt``, ``tanh``, ``abs``, ``floor``, comparisons ``> >= < == !=``,
``and``, ``or``, and ``if`` (condition, then, else). ``INF`` is positive infinity.

``Formula.refuse`` is the condition (over x, y, out) under which the engine raises instead
of computing (``False`` when it never does): a replay reports such a node as an error.

>>> from autograd_lite.program.formulas import FORMULAS, render
>>> rule = FORMULAS["tanh"]
>>> render(rule.forward, "c"), render(rule.derivatives[0], "c")
('tanh(x)', '(1.0 - (out * out))')
>>> render(FORMULAS["relu"].derivatives[0], "javascript")
'((x > 0.0) ? 1.0 : ((x <= 0.0) ? 0.0 : x))'

The two ops with any number of inputs are described by ``NARY`` instead (see there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from autograd_lite.sums import exact_sum  # the engine's sum node, for the backends

__all__ = [
    "FORMULAS",
    "INF",
    "LANGUAGES",
    "NARY",
    "OPS",
    "Formula",
    "NaryFormula",
    "exact_sum",
    "finite_slopes",
    "render",
]

INF = math.inf


@dataclass(frozen=True)
class Formula:
    """An op with a fixed number of inputs, named ``x`` (and ``y``); ``out`` is its result.

    ``derivatives[i]`` is d(out)/d(input i), an expression over x, y and out.
    """

    op: str
    inputs: tuple[str, ...]
    forward: object
    derivatives: tuple
    why: str = ""  # the edge case, in words
    refuse: object = False  # when the engine raises instead (may read ``out``)


@dataclass(frozen=True)
class NaryFormula:
    """An op with any number of inputs (``sum`` and ``weighted_sum``).

    * ``sum`` -- inputs x1..xn; out = x1 + ... + xn rounded once (the engine uses
      ``math.fsum``: exact sum, one rounding); d(out)/d(xi) = 1.
    * ``weighted_sum`` -- inputs w1..wn, a1..an, b (that order; n = (len - 1) / 2);
      out = b + w1*a1 + w2*a2 + ... + wn*an, added left to right starting from b (the
      engine's ``sum(map(mul, w, a), b)``); d/dwi = ai, d/dai = wi, d/db = 1.

    ``term`` is the expression summed for each i (over ``w`` and ``a``; ``x`` for sum),
    ``start`` what the sum starts from, ``derivatives`` maps each input group to its local
    derivative.
    """

    op: str
    groups: tuple[str, ...]  # input groups in order: ("x",) or ("w", "a", "b")
    term: object
    start: object
    derivatives: dict
    exact: bool  # True: rounded once (fsum); False: added left to right
    why: str = ""


def _if(condition: object, then: object, otherwise: object) -> tuple:
    return ("if", condition, then, otherwise)


def _overflow(out: str, *finite_inputs: str) -> tuple:
    """out is infinite although every input is finite (the engine raises OverflowError)."""
    condition: object = ("==", ("abs", out), INF)
    for name in finite_inputs:
        condition = ("and", condition, ("<", ("abs", name), INF))
    return condition


FORMULAS: dict[str, Formula] = {
    f.op: f
    for f in [
        Formula("+", ("x", "y"), ("+", "x", "y"), (1.0, 1.0)),
        Formula("*", ("x", "y"), ("*", "x", "y"), ("y", "x")),
        Formula("-", ("x", "y"), ("-", "x", "y"), (1.0, -1.0)),
        Formula("/", ("x", "y"), ("/", "x", "y"), (("/", 1.0, "y"), ("neg", ("/", "out", "y"))),
                "the engine refuses y = 0", ("==", "y", 0.0)),
        Formula(
            "**", ("x", "y"), ("pow", "x", "y"),
            (
                _if(("and", ("==", "x", 0.0), ("<", "y", 1.0)),
                    _if(("==", "y", 0.0), 0.0, INF),
                    ("*", "y", ("pow", "x", ("-", "y", 1.0)))),
                _if((">", "x", 0.0), ("*", "out", ("log", "x")), _if(("<=", "x", 0.0), 0.0, "x")),
            ),
            "d/dx at x = 0: 0 for y = 0, infinite for 0 < y < 1; d/dy is 0 for x <= 0 "
            "(x^y is flat in y at 0; a negative base has an integer, constant exponent), "
            "NaN for x = NaN; "
            "the engine refuses 0 to a negative power, a negative base to a non-integer one, "
            "and an overflow",
            ("or", ("and", ("==", "x", 0.0), ("<", "y", 0.0)),
                   ("or", ("and", ("<", "x", 0.0),
                                  ("and", ("<", ("abs", "y"), INF), ("!=", "y", ("floor", "y")))),
                          _overflow("out", "x", "y"))),
        ),
        Formula("neg", ("x",), ("neg", "x"), (-1.0,)),
        Formula("exp", ("x",), ("exp", "x"), ("out",), "the engine refuses an overflow",
                _overflow("out", "x")),
        Formula("log", ("x",), ("log", "x"), (("/", 1.0, "x"),), "the engine refuses x <= 0",
                ("<=", "x", 0.0)),
        Formula("sqrt", ("x",), ("sqrt", "x"), (_if(("<=", "out", 0.0), INF, ("/", 0.5, "out")),),
                "vertical (infinite slope) at x = 0, NaN at NaN; the engine refuses x < 0",
                ("<", "x", 0.0)),
        Formula("tanh", ("x",), ("tanh", "x"), (("-", 1.0, ("*", "out", "out")),)),
        Formula(
            "sigmoid", ("x",),
            _if((">=", "x", 0.0),
                ("/", 1.0, ("+", 1.0, ("exp", ("neg", "x")))),
                ("/", ("exp", "x"), ("+", 1.0, ("exp", "x")))),
            (("*", "out", ("-", 1.0, "out")),),
            "two forms so that exp never overflows",
        ),
        Formula("relu", ("x",), _if(("<=", "x", 0.0), 0.0, "x"),
                (_if((">", "x", 0.0), 1.0, _if(("<=", "x", 0.0), 0.0, "x")),),
                "slope 0 at x = 0; NaN stays NaN, its slope too (the last branch's x is NaN)"),
        Formula(
            "leaky_relu", ("x", "y"), _if((">", "x", 0.0), "x", ("*", "y", "x")),
            (_if((">", "x", 0.0), 1.0, _if(("<=", "x", 0.0), "y", "x")),
             _if((">", "x", 0.0), 0.0, "x")),
            "y is the slope (an input, so it can be learned); slope y at x = 0; NaN slopes at "
            "x = NaN (the last branches' x is NaN)",
        ),
        Formula("abs", ("x",), ("abs", "x"),
                (_if((">", "x", 0.0), 1.0,
                     _if(("<", "x", 0.0), -1.0, _if(("==", "x", 0.0), 0.0, "x"))),),
                "0 at x = 0, NaN at NaN (the last branch's x is NaN)"),
    ]
}  # fmt: skip

NARY: dict[str, NaryFormula] = {
    "sum": NaryFormula("sum", ("x",), "x", 0.0, {"x": 1.0}, exact=True,
                       why="rounded once, like math.fsum (see exact_sum)"),
    "weighted_sum": NaryFormula(
        "weighted_sum", ("w", "a", "b"), ("*", "w", "a"), "b", {"w": "a", "a": "w", "b": 1.0},
        exact=False, why="starts from b, adds w1*a1, w2*a2, ... left to right",
    ),
}  # fmt: skip


# Every op a program may hold, in a fixed order: the C interpreter's op codes are indices.
OPS: tuple[str, ...] = (*FORMULAS, *NARY)


def finite_slopes(op: str) -> bool:
    """True when ``op``'s local derivatives are finite wherever its inputs and output are.

    Read off the table: a derivative that divides, takes a power or a log, or is infinite
    somewhere may overflow or be infinite at finite inputs (1/y for a tiny y). A replay
    may skip the chain-rule steps of a node whose gradient is 0 only for such ops: there
    every contribution is 0 (times a finite number), never NaN.

    >>> finite_slopes("tanh"), finite_slopes("sqrt"), finite_slopes("weighted_sum")
    (True, False, True)
    """
    if op in NARY:
        return True
    stack = list(FORMULAS[op].derivatives)
    while stack:
        part = stack.pop()
        if part == INF:
            return False
        if isinstance(part, tuple):
            if part[0] in ("/", "pow", "log"):
                return False
            stack.extend(part[1:])
    return True


# --- rendering -----------------------------------------------------------------------------

LANGUAGES = ("python", "numpy", "c", "javascript")

_FUNCTIONS = {  # operator -> function name per language
    "python": {"exp": "math.exp", "log": "math.log", "sqrt": "math.sqrt", "tanh": "math.tanh",
               "abs": "abs", "pow": "math.pow", "floor": "math.floor"},
    "numpy": {"exp": "np.exp", "log": "np.log", "sqrt": "np.sqrt", "tanh": "np.tanh",
              "abs": "np.abs", "pow": "np.power", "floor": "np.floor"},
    "c": {"exp": "exp", "log": "log", "sqrt": "sqrt", "tanh": "tanh", "abs": "fabs",
          "pow": "pow", "floor": "floor"},
    "javascript": {"exp": "Math.exp", "log": "Math.log", "sqrt": "Math.sqrt",
                   "tanh": "Math.tanh", "abs": "Math.abs", "pow": "Math.pow",
                   "floor": "Math.floor"},
}  # fmt: skip
_INFINITY = {"python": "math.inf", "numpy": "np.inf", "c": "INFINITY", "javascript": "Infinity"}
_LOGIC = {
    "and": {"python": "and", "numpy": "&", "c": "&&", "javascript": "&&"},
    "or": {"python": "or", "numpy": "|", "c": "||", "javascript": "||"},
}


def render(expr: object, language: str, names: dict[str, str] | None = None) -> str:
    """``expr`` as source code in ``language`` (one of ``LANGUAGES``).

    ``names`` renames variables (``{"x": "v[a]"}``); unnamed ones keep their name. Every
    compound expression is parenthesised, so the result can be pasted anywhere. NumPy
    conditionals become ``np.where`` (both branches are computed: run it under
    ``np.errstate(all="ignore")``).

    >>> render(("if", (">", "x", 0.0), "x", ("*", "y", "x")), "python", {"x": "a", "y": "s"})
    '(a if (a > 0.0) else (s * a))'
    >>> render(("pow", "x", 2.0), "c")
    'pow(x, 2.0)'
    """
    if language not in LANGUAGES:
        raise ValueError(f"render: unknown language {language!r}; choose one of {LANGUAGES}")
    names = names or {}
    functions = _FUNCTIONS[language]

    # Iterative post-order walk: formulas are tiny, but no recursion is the project's rule.
    done: dict[int, str] = {}
    stack = [expr]
    while stack:
        node = stack[-1]
        if not isinstance(node, tuple):
            stack.pop()
            done[id(node)] = _leaf(node, language, names)
            continue
        pending = [part for part in node[1:] if id(part) not in done]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        operator, *parts = node
        args = [done[id(part)] for part in parts]
        done[id(node)] = _compound(operator, args, language, functions)
    return done[id(expr)]


def _leaf(node: object, language: str, names: dict[str, str]) -> str:
    if isinstance(node, str):
        return names.get(node, node)
    if isinstance(node, bool):
        return {"c": str(int(node)), "javascript": str(node).lower()}.get(language, repr(node))
    if isinstance(node, float):
        if node == INF:
            return _INFINITY[language]
        return repr(node)
    raise TypeError(f"render: not an expression: {node!r}")


def _compound(operator: str, args: list[str], language: str, functions: dict) -> str:
    if operator in ("+", "-", "*", "/", ">", ">=", "<", "<=", "==", "!="):
        return f"({args[0]} {operator} {args[1]})"
    if operator == "neg":
        return f"(-{args[0]})"
    if operator in _LOGIC:
        return f"({args[0]} {_LOGIC[operator][language]} {args[1]})"
    if operator == "if":
        condition, then, otherwise = args
        if language == "python":
            return f"({then} if {condition} else {otherwise})"
        if language == "numpy":
            return f"np.where({condition}, {then}, {otherwise})"
        return f"({condition} ? {then} : {otherwise})"
    if operator in functions:
        return f"{functions[operator]}({', '.join(args)})"
    raise ValueError(f"render: unknown operator {operator!r}")
