"""The numbers fed to a replay, checked once where they enter, the same for every backend.

``run(inputs=..., params=...)`` and ``Replay.params = ...`` take a flat list (a tuple, a
NumPy array of one dimension ...) of exactly as many real numbers as were traced. A str, a
bool, a nested list, a wrong count, NaN or infinity, an int too large for a float: each is
a ``TypeError`` or ``ValueError`` in ``checks.py``'s one format, naming the call and the
number (``inputs[3]``), before any backend sees it.

>>> numbers("run", "inputs", [1, 2.5], 2)
[1.0, 2.5]
>>> numbers("run", "inputs", [1.0, True], 2)
Traceback (most recent call last):
...
TypeError: run: inputs[1] must be a number, got bool True
>>> numbers("run", "inputs", [0.0, 10**400], 2)
Traceback (most recent call last):
...
ValueError: run: inputs[1] must be within float range (|x| <= 1.8e308), got 1e+400 (an int of 401 digits)

Only the standard library is imported here: a NumPy array is read through its ``ndim`` and
``tolist()``.
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from math import isfinite

from autograd_lite.checks import check_number, wrong_kind, wrong_value

__all__ = ["numbers"]


def numbers(operation: str, role: str, values: object, count: int) -> list[float]:
    """``values`` as a new list of ``count`` finite floats, or the error naming what is wrong:
    ``{operation}: {role}[i] must be ...``.

    >>> numbers("run", "params", (0.5,), 1)
    [0.5]
    >>> numbers("run", "inputs", [[1.0, 2.0]], 2)
    Traceback (most recent call last):
    ...
    ValueError: run: inputs must be a flat list of 2 numbers (as traced), got [[1.0, 2.0]]
    """
    kind = type(values)
    found = values if kind is list or kind is tuple else _as_list(operation, role, values, count)
    if len(found) != count:  # type: ignore[arg-type]
        raise wrong_value(operation, role, _flat_list(count), values)
    # The fast path, once per run(): a list of floats, all finite, is copied as it is (a copy:
    # the caller may change their list afterwards).
    if set(map(type, found)) <= _FLOAT and all(map(isfinite, found)):  # type: ignore[call-overload]
        return list(found)  # type: ignore[call-overload]
    # Else each number on its own: a str, a bool, a list (a nested list: not the shape traced),
    # an int too large for a float, NaN, named by its position.
    return [check_number(operation, f"{role}[{i}]", v) for i, v in enumerate(found)]  # type: ignore[call-overload]


_FLOAT = {float}


def _flat_list(count: int) -> str:
    return f"a flat list of {count} number{'s' * (count != 1)} (as traced)"


def _as_list(operation: str, role: str, values: object, count: int) -> list:
    """Any other container of numbers as a list: a NumPy array (of one dimension), a range,
    a generator; not text, a dict (its keys) or a set (no order)."""
    if hasattr(values, "ndim") and hasattr(values, "tolist"):  # NumPy, PyTorch
        if values.ndim != 1:  # NumPy would flatten a (2, 3) array into 6 numbers: refused
            shape = tuple(getattr(values, "shape", ()))
            raise ValueError(
                f"{operation}: {role} must be {_flat_list(count)}, got an array of shape {shape}"
            )
        return values.tolist()  # Python numbers: a bool array gives bools, refused below
    if isinstance(values, (str, bytes, bytearray, Mapping, Set)) or not isinstance(
        values, Iterable
    ):
        raise wrong_kind(operation, role, _flat_list(count), values)
    return list(values)
