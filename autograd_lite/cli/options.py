"""Option types shared by the subcommands: argparse turns their errors into a clear
message and exit code 2.

>>> positive_int("16"), finite_number()("-0.5"), finite_number(0.0, strict=True)("0.1")
(16, -0.5, 0.1)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return number


def finite_number(minimum: float | None = None, strict: bool = False) -> Callable[[str], float]:
    """A finite float, at least ``minimum`` (above it when ``strict``) if one is given."""
    bound = "" if minimum is None else (f" > {minimum:g}" if strict else f" >= {minimum:g}")

    def number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_small = minimum is not None and (value < minimum or (strict and value == minimum))
        if not math.isfinite(value) or too_small:
            raise argparse.ArgumentTypeError(f"expected a finite number{bound}, got {text!r}")
        return value

    return number


def output_folder(text: str) -> Path:
    """A folder, or a path where one can be made."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    return path


def output_file(text: str) -> Path:
    """A file to write: its folder must exist, and it must not be a folder itself."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist")
    return path
