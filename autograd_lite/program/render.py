"""An expression (``autograd_lite.symbolic``) written as source code in one of ``SYNTAXES``.

The replays and the exported files write each op's forward, derivatives and refusals --
read off the engine by ``autograd_lite.expressions`` -- with ``render``.

>>> from autograd_lite.expressions import expressions
>>> relu = expressions("relu")
>>> render(relu.forward, "c"), render(expressions("tanh").derivatives[0], "c")
('((x <= 0.0) ? 0.0 : x)', '(1.0 - (out * out))')
>>> render(relu.derivatives[0], "javascript")
'((x > 0.0) ? 1.0 : ((x <= 0.0) ? 0.0 : NaN))'
"""

from __future__ import annotations

import math

from autograd_lite.symbolic import Expr, fold

__all__ = ["SYNTAXES", "render"]

# The syntaxes an expression can be written in (the exported files' languages, and NumPy's
# vectorised Python for its replay).
SYNTAXES = ("python", "numpy", "c", "javascript")

_FUNCTIONS = {  # operator -> function name per syntax
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
_NAN = {"python": "math.nan", "numpy": "np.nan", "c": "NAN", "javascript": "NaN"}
_LOGIC = {
    "and": {"python": "and", "numpy": "&", "c": "&&", "javascript": "&&"},
    "or": {"python": "or", "numpy": "|", "c": "||", "javascript": "||"},
}
_NOT = {"python": "not ", "numpy": "~", "c": "!", "javascript": "!"}


def render(expr: Expr, syntax: str, names: dict[str, str] | None = None) -> str:
    """``expr`` as source code in ``syntax`` (one of ``SYNTAXES``).

    ``names`` renames variables (``{"x": "v[a]"}``); unnamed ones keep their name. Every
    compound expression is parenthesised, so the result can be pasted anywhere. NumPy
    conditionals become ``np.where`` (both branches are computed: run it under
    ``np.errstate(all="ignore")``).

    >>> render(("if", (">", "x", 0.0), "x", ("*", "y", "x")), "python", {"x": "a", "y": "s"})
    '(a if (a > 0.0) else (s * a))'
    >>> render(("pow", "x", 2.0), "c"), render(("not", ("<", "x", math.inf)), "numpy")
    ('pow(x, 2.0)', '(~(x < np.inf))')
    """
    if syntax not in SYNTAXES:
        raise ValueError(f"render: unknown syntax {syntax!r}; choose one of {SYNTAXES}")
    names = names or {}
    functions = _FUNCTIONS[syntax]
    return fold(
        expr,
        lambda part: _leaf(part, syntax, names),
        lambda part, args: _compound(part[0], args, syntax, functions),
    )


def _leaf(node: object, syntax: str, names: dict[str, str]) -> str:
    if isinstance(node, str):
        return names.get(node, node)
    if isinstance(node, bool):
        return {"c": str(int(node)), "javascript": str(node).lower()}.get(syntax, repr(node))
    if isinstance(node, float):
        if math.isnan(node):
            return _NAN[syntax]
        if math.isinf(node):
            return _INFINITY[syntax] if node > 0 else f"(-{_INFINITY[syntax]})"
        return repr(node)
    raise TypeError(f"render: not an expression: {node!r}")


def _compound(operator: str, args: list[str], syntax: str, functions: dict) -> str:
    if operator in ("+", "-", "*", "/", ">", ">=", "<", "<=", "==", "!="):
        return f"({args[0]} {operator} {args[1]})"
    if operator == "neg":
        return f"(-{args[0]})"
    if operator in _LOGIC:
        return f"({args[0]} {_LOGIC[operator][syntax]} {args[1]})"
    if operator == "not":
        return f"({_NOT[syntax]}{args[0]})"
    if operator == "if":
        condition, then, otherwise = args
        if syntax == "python":
            return f"({then} if {condition} else {otherwise})"
        if syntax == "numpy":
            return f"np.where({condition}, {then}, {otherwise})"
        return f"({condition} ? {then} : {otherwise})"
    if operator in functions:
        return f"{functions[operator]}({', '.join(args)})"
    raise ValueError(f"render: unknown operator {operator!r}")
