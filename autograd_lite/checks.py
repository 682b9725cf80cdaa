"""Argument checks: one argument order, one message format, for the whole project.

Every check takes ``(operation, name, value)`` -- the function or class refusing the
argument, the argument's name, the argument -- and either returns the value (converted where
that helps, e.g. to ``float``) or raises. The message always reads::

    {operation}: {name} must be {requirement}, got {type} {value!r}    (TypeError: wrong kind)
    {operation}: {name} must be {requirement}, got {value!r}           (ValueError: wrong value)

>>> check_number("SGD", "lr", 0.1, minimum=0.0)
0.1
>>> check_number("SGD", "lr", "fast")
Traceback (most recent call last):
...
TypeError: SGD: lr must be a number, got str 'fast'
>>> check_count("MLP", "nin", 0)
Traceback (most recent call last):
...
ValueError: MLP: nin must be >= 1, got 0

This module imports nothing else of the project, so the engine can use it.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, TypeVar

__all__ = [
    "check_callable",
    "check_choice",
    "check_count",
    "check_format",
    "check_instance",
    "check_number",
    "check_path",
    "check_seed",
    "describe_operands",
    "is_number",
    "refuse_operand",
    "shown",
    "wrong_kind",
    "wrong_value",
]

T = TypeVar("T")


# A value in a message is cut to this many characters: a message is one line, whatever the
# value (a list of a million numbers, a string read from a file).
SHOWN_LENGTH = 100
FLOAT_RANGE = "within float range (|x| <= 1.8e308)"  # the requirement an overflow misses


def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """``repr(value)``, cut to about ``limit`` characters; it never fails, whatever the
    value (an int of 5000 digits, a list nested a thousand levels deep).

    >>> shown(10**400)
    '1e+400 (an int of 401 digits)'
    >>> shown(list(range(100)), limit=20)
    '[0, 1, 2, 3, 4, 5...'
    >>> class Lines:
    ...     def __repr__(self): return "Lines(1," + chr(10) + "      2)"
    >>> shown(Lines())
    'Lines(1, 2)'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 133:
        return _big_int(value)  # over 40 digits: its size, not its digits
    try:
        text = repr(value)
    except Exception:  # nested too deep, too many digits, a broken __repr__: still one line
        return f"<{type(value).__name__} that cannot be shown>"
    if "\n" in text:  # a NumPy array's repr spans lines: a message is one
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _big_int(value: int) -> str:
    """'1e+400 (an int of 401 digits)', exactly, without the digits (repr refuses an int of
    more than 4300)."""
    size = abs(value)
    exponent = int(size.bit_length() * 0.30102999566398120)  # log10(2): a first guess
    while 10**exponent > size:
        exponent -= 1
    while 10 ** (exponent + 1) <= size:
        exponent += 1
    leading = size // 10 ** max(exponent - 2, 0)  # the first three digits
    mantissa = f"{leading / 100:.3g}"
    return f"{'-' if value < 0 else ''}{mantissa}e+{exponent} (an int of {exponent + 1} digits)"


def wrong_kind(operation: str, name: str, requirement: str, value: object) -> TypeError:
    """The TypeError of the one format, for an argument of the wrong kind.

    >>> wrong_kind("run", "inputs[0]", "a number", "12")
    TypeError("run: inputs[0] must be a number, got str '12'")
    """
    return TypeError(
        f"{operation}: {name} must be {requirement}, got {type(value).__name__} {shown(value)}"
    )


def wrong_value(operation: str, name: str, requirement: str, value: object) -> ValueError:
    """The ValueError of the one format, for an argument of the right kind but a wrong value.

    >>> wrong_value("MLP", "nin", ">= 1", 0)
    ValueError('MLP: nin must be >= 1, got 0')
    """
    return ValueError(f"{operation}: {name} must be {requirement}, got {shown(value)}")


_wrong_kind, _wrong_value = wrong_kind, wrong_value  # the names used below


def is_number(x: object) -> bool:
    """True for a real number (int, float, fractions, ...), False for bool and anything else.

    >>> is_number(3), is_number(2.5), is_number(True), is_number("1")
    (True, True, False, False)
    """
    # float and int first: the ABC check of numbers.Real is slow, and this runs on every
    # number that meets a Value.
    kind = type(x)
    if kind is float or kind is int:
        return True
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_number(
    operation: str,
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    above: float | None = None,
    finite: bool = True,
) -> float:
    """``value`` as a float if it is a real number (finite unless ``finite=False``), at least
    ``minimum`` and strictly greater than ``above`` when given.

    >>> check_number("draw_graph", "explode_threshold", -1, above=0)
    Traceback (most recent call last):
    ...
    ValueError: draw_graph: explode_threshold must be > 0, got -1
    >>> check_number("Value", "data", float("inf"), finite=False)
    inf
    >>> check_number("run", "inputs[3]", 10**400, finite=False)
    Traceback (most recent call last):
    ...
    ValueError: run: inputs[3] must be within float range (|x| <= 1.8e308), got 1e+400 (an int of 401 digits)
    """  # noqa: E501
    if not is_number(value):
        raise _wrong_kind(operation, name, "a number", value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:  # an int (or a Fraction) too large for a float: 10**400
        raise _wrong_value(operation, name, FLOAT_RANGE, value) from None
    if finite and not math.isfinite(number):
        raise _wrong_value(operation, name, "finite", value)
    if minimum is not None and not number >= minimum:
        raise _wrong_value(operation, name, f">= {minimum}", value)
    if above is not None and not number > above:
        raise _wrong_value(operation, name, f"> {above}", value)
    return number


def check_count(operation: str, name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``.

    >>> check_count("Layer", "nout", 3)
    3
    >>> check_count("Layer", "nout", 2.0)
    Traceback (most recent call last):
    ...
    TypeError: Layer: nout must be an int, got float 2.0
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise _wrong_kind(operation, name, "an int", value)
    if value < minimum:
        raise _wrong_value(operation, name, f">= {minimum}", value)
    return value


def check_seed(operation: str, name: str, value: object) -> int | None:
    """``value`` if it is a random seed: None (a fresh one) or an int (not a bool).

    >>> check_seed("MLP", "seed", None), check_seed("MLP", "seed", 7)
    (None, 7)
    >>> check_seed("MLP", "seed", 0.5)
    Traceback (most recent call last):
    ...
    TypeError: MLP: seed must be None or an int, got float 0.5
    """
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _wrong_kind(operation, name, "None or an int", value)
    return value


def check_choice(operation: str, name: str, value: T, choices: tuple[str, ...]) -> T:
    """``value`` if it is one of ``choices``.

    >>> check_choice("draw_graph", "rankdir", "XY", ("LR", "TB"))
    Traceback (most recent call last):
    ...
    ValueError: draw_graph: rankdir must be one of LR, TB, got 'XY'
    """
    if value not in choices:
        raise _wrong_value(operation, name, f"one of {', '.join(choices)}", value)
    return value


def check_callable(operation: str, name: str, value: T) -> T:
    """``value`` if it can be called.

    >>> check_callable("register_hook", "hook", 3)
    Traceback (most recent call last):
    ...
    TypeError: register_hook: hook must be callable, got int 3
    """
    if not callable(value):
        raise _wrong_kind(operation, name, "callable", value)
    return value


def check_instance(
    operation: str, name: str, value: T, kind: type | tuple[type, ...], what: str
) -> T:
    """``value`` if it is an instance of ``kind`` (a type or a tuple of them, as for
    ``isinstance``); ``what`` names the kind in the message.

    >>> check_instance("draw_graph", "root", 3, str, "a Value")
    Traceback (most recent call last):
    ...
    TypeError: draw_graph: root must be a Value, got int 3
    >>> check_instance("export_html", "title", None, (str, type(None)), "a str or None")
    """
    if not isinstance(value, kind):
        raise _wrong_kind(operation, name, what, value)
    return value


def check_path(operation: str, name: str, value: object) -> str | os.PathLike:
    """``value`` if it can name a file: a str or a ``pathlib.Path`` (any ``os.PathLike``).

    >>> check_path("render", "path", 42)
    Traceback (most recent call last):
    ...
    TypeError: render: path must be a str or a Path, got int 42
    """
    return check_instance(operation, name, value, (str, os.PathLike), "a str or a Path")


def check_format(operation: str, name: str, value: object) -> str:
    """``value`` if it is a format spec for floats, such as ``'.4g'``.

    >>> check_format("draw_graph", "number_format", "%q")
    Traceback (most recent call last):
    ...
    ValueError: draw_graph: number_format must be a float format spec such as '.4g', got '%q'
    """
    try:
        format(1.5, value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _wrong_value(operation, name, "a float format spec such as '.4g'", value) from None
    return value  # type: ignore[return-value]


# --- an operation's operands ----------------------------------------------------------------
# The engine's messages name the operation and the operands' values (with their labels).


def describe_operands(operands: object) -> str:
    """'a=2.0, -1.5': the values of some Values, with labels where they have one.

    >>> class V: label, data = "a", 2.0
    >>> describe_operands([V()])
    'a=2.0'
    """
    return ", ".join(
        f"{v.label}={v.data!r}" if v.label else repr(v.data)  # type: ignore[attr-defined]
        for v in operands  # type: ignore[attr-defined]
    )


# An operator's unknown operand may know the operation from the right: Python asks it next.
_REFLECTED = {"+": "__radd__", "*": "__rmul__", "-": "__rsub__", "/": "__rtruediv__",
              "**": "__rpow__"}  # fmt: skip


def refuse_operand(operation: str, value: object) -> Any:
    """For an operand that is neither a Value nor a number: ``NotImplemented`` when it is an
    operator's and its type may handle the operation from the right (NumPy arrays, ...), so
    that Python asks it next, as its data model wants; otherwise a TypeError.

    >>> refuse_operand("+", "text") is NotImplemented   # str has no __radd__
    Traceback (most recent call last):
    ...
    TypeError: +: unsupported operand str 'text'; expected a Value or a real number
    """
    kind = type(value)
    reflected = _REFLECTED.get(operation)
    if reflected and (hasattr(kind, reflected) or hasattr(kind, "__array_ufunc__")):
        return NotImplemented
    raise TypeError(
        f"{operation}: unsupported operand {kind.__name__} {value!r}; "
        "expected a Value or a real number"
    )
