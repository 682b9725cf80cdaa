"""The elementary functions the ops' forwards and derivative rules call: one name for numbers,
Values and symbols.

An op's forward runs on floats; its derivative rule on floats (the forward pass), on Values
(``grad(create_graph=True)``) and on symbols (``autograd_lite.expressions`` reads each op
off as expressions). So a rule cannot call ``math.exp``, which takes numbers only, nor
``x.exp()``, which floats lack: it calls ``exp(x)`` from here, which takes ``math.exp``
for a number and the argument's own ``exp()`` for anything else.

>>> from autograd_lite import Value
>>> from autograd_lite.symbolic import Symbol
>>> tanh(0.0), tanh(Value(0.0)).op, tanh(Symbol("x")).expr
(0.0, 'tanh', ('tanh', 'x'))
>>> exact_sum([1e16, 1.0, -1e16]), fsum([Symbol("a"), Symbol("b")]).expr
(1.0, ('fsum', 'a', 'b'))
"""

from __future__ import annotations

import math
from typing import Any

from autograd_lite import symbolic
from autograd_lite.checks import is_number, wrong_kind

__all__ = ["exact_sum", "exp", "fsum", "isfinite", "log", "sqrt", "tanh"]

_exp, _log, _sqrt, _tanh, _isfinite = math.exp, math.log, math.sqrt, math.tanh, math.isfinite


def _own(x: Any, name: str, on_numbers: Any) -> Any:
    """``on_numbers(x)`` for a number that is not a float (int, Fraction, ...), else x's
    own method ``name`` (a Value's, a symbol's)."""
    if is_number(x):
        return on_numbers(x)
    method = getattr(x, name, None)
    if method is None:
        raise wrong_kind(name, "x", "a number, a Value or a symbol", x)
    return method()


# A float goes straight to math (type(x) is float: the forward pass's case, kept cheap).


def exp(x: Any) -> Any:
    """e to the power x: ``math.exp`` for a number (OverflowError past 709.78), else ``x.exp()``."""
    return _exp(x) if type(x) is float else _own(x, "exp", _exp)


def log(x: Any) -> Any:
    """The natural logarithm: ``math.log`` for a number (ValueError for x <= 0), else
    ``x.log()``."""
    return _log(x) if type(x) is float else _own(x, "log", _log)


def sqrt(x: Any) -> Any:
    """The square root: ``math.sqrt`` for a number (ValueError for x < 0), else ``x.sqrt()``."""
    return _sqrt(x) if type(x) is float else _own(x, "sqrt", _sqrt)


def tanh(x: Any) -> Any:
    """The hyperbolic tangent: ``math.tanh`` for a number, else ``x.tanh()``."""
    return _tanh(x) if type(x) is float else _own(x, "tanh", _tanh)


def isfinite(x: Any) -> Any:
    """Neither infinite nor NaN: ``math.isfinite`` for a number, a condition for a symbol.
    (For the forwards, which run on numbers: a Value has no ``isfinite``.)"""
    return _isfinite(x) if type(x) is float else _own(x, "isfinite", _isfinite)


def exact_sum(values: list[float]) -> float:
    """The forward rule of ``sum``: ``math.fsum`` (the exact sum, rounded once), or, where
    fsum gives up (an inf minus an inf, a partial sum past the largest float), the plain
    left-to-right sum, as ``+`` gives: NaN or ±inf then, never an error.

    >>> exact_sum([1e16, 1.0, -1e16]), sum([1e16, 1.0, -1e16])
    (1.0, 0.0)
    >>> exact_sum([1e308, 1e308, -1e308])  # fsum raises "intermediate overflow" here
    inf
    """
    try:
        return math.fsum(values)
    except (ValueError, OverflowError):
        return sum(values)


def fsum(values: list[Any]) -> Any:
    """``exact_sum`` of numbers; of symbols, the expression of their exact sum."""
    if any(isinstance(v, symbolic.Symbol) for v in values):
        return symbolic.fsum(values)
    return exact_sum(values)
