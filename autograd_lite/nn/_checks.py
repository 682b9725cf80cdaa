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


def check_seed(where: str, seed: object) -> int | None:
    """``seed`` if it is None or an int (not a bool), else a clear error: random.Random would
    accept a string or a float and quietly make a different sequence from it.

    >>> check_seed("MLP", "x")
    Traceback (most recent call last):
    ...
    TypeError: MLP: seed must be an int or None, got str 'x'
    """
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError(f"{where}: seed must be an int or None, got {type(seed).__name__} {seed!r}")
    return seed
