"""Small argument checks shared by the nn modules, so every error message reads the same way."""

from __future__ import annotations

import math
import numbers


def is_number(x: object) -> bool:
    """True for int and float (and other real numbers), False for bool and everything else."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_number(where: str, name: str, x: object, *, minimum: float | None = None) -> float:
    """``x`` as a float if it is a finite real number (>= ``minimum``), else a clear error."""
    if not is_number(x):
        raise TypeError(f"{where}: {name} must be a number, got {type(x).__name__} {x!r}")
    if not math.isfinite(x):
        raise ValueError(f"{where}: {name} must be finite, got {x!r}")
    if minimum is not None and x < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {x!r}")
    return float(x)


def check_count(where: str, name: str, x: object, *, minimum: int = 1) -> int:
    """``x`` if it is an int >= ``minimum`` (not a bool), else a clear error."""
    if not isinstance(x, int) or isinstance(x, bool):
        raise TypeError(f"{where}: {name} must be an int, got {type(x).__name__} {x!r}")
    if x < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {x!r}")
    return x


def check_seed(operation: str, name: str, value: object) -> int | None:
    """``value`` if it is a random seed: None (a fresh one) or an int (not a bool).
    random.Random would accept a string or a float and quietly make another sequence.

    >>> check_seed("MLP", "seed", None), check_seed("MLP", "seed", 7)
    (None, 7)
    >>> check_seed("MLP", "seed", "x")
    Traceback (most recent call last):
    ...
    TypeError: MLP: seed must be None or an int, got str 'x'
    """
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError(
            f"{operation}: {name} must be None or an int, got {type(value).__name__} {value!r}"
        )
    return value
