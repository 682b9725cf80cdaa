"""Option types shared by the subcommands: argparse turns their errors into a clear
message and exit code 2.

>>> positive_int("16"), finite_number()("-0.5"), finite_number(0.0, strict=True)("0.1")
(16, -0.5, 0.1)
>>> whole_number(1, 17)("8"), finite_number(0.0, maximum=10.0)("0.2")
(8, 0.2)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from autograd_lite.nn import MLP


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return number


def whole_number(minimum: int, maximum: int) -> Callable[[str], int]:
    """A whole number from ``minimum`` to ``maximum``, both included."""

    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {minimum} to {maximum}, got {text!r}"
            )
        return value

    return number


def finite_number(
    minimum: float | None = None, strict: bool = False, maximum: float | None = None
) -> Callable[[str], float]:
    """A finite float, at least ``minimum`` (above it when ``strict``) if one is given, and
    at most ``maximum`` if one is given."""
    bound = "" if minimum is None else (f" > {minimum:g}" if strict else f" >= {minimum:g}")
    bound += "" if maximum is None else f"{' and' if bound else ''} <= {maximum:g}"

    def number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_small = minimum is not None and (value < minimum or (strict and value == minimum))
        too_large = maximum is not None and value > maximum
        if not math.isfinite(value) or too_small or too_large:
            raise argparse.ArgumentTypeError(f"expected a finite number{bound}, got {text!r}")
        return value

    return number


def output_folder(text: str) -> Path:
    """A folder, or a path where one can be made."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    return path


def writable_folder(text: str) -> Path:
    """A folder that exists or can be made, and can be written into: checked before a
    command does its work, without making it (nothing is left behind if the work fails).

    >>> writable_folder("a/new/folder").parts
    ('a', 'new', 'folder')
    """
    path = output_folder(text)
    _check_makeable(path, text)
    return path


def _check_makeable(folder: Path, text: str) -> None:
    """Refuse a folder that can be neither found nor made and written into."""
    existing = folder
    while not existing.exists():  # the nearest part of the path that is there already
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot make the folder {text!r}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {str(existing)!r}: not allowed")


def output_file(text: str) -> Path:
    """A file to write: its folder must exist, and it must not be a folder itself."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist")
    return path


def output_path(folder_default: str) -> Callable[[str], Path]:
    """A file to write, exactly as given; in a folder (one that exists, or a path ending
    in a slash) the file is ``folder_default`` inside it. The empty path is refused, and so
    is a file whose folder can be neither found nor made.

    >>> output_path("backprop.html")("page").as_posix(), output_path("backprop.html")("out/").parts
    ('page', ('out', 'backprop.html'))
    """

    def path(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"expected a file or folder to write, got {text!r}")
        target = Path(text)
        if target.is_dir() or text.endswith(("/", os.sep)):
            target = target / folder_default
        _check_makeable(target.parent, str(target.parent))
        return target

    return path


def read_model(command: str, path: str) -> MLP:
    """The model saved in the file ``path`` (by ``MLP.save``). A file that cannot be read
    or holds no model (not JSON, nested too deep, a number no float holds, a wrong key or
    type) ends the command with one line on stderr and exit code 2, as a bad option does:
    ``autograd-lite export: error: model.json: layers[0][0].b must be a finite number, ...``.
    """
    try:
        return MLP.load(path)
    except OSError as error:  # missing, a folder, not allowed
        message = f"cannot read {path}: {error.strerror or error}"
    except ValueError as error:  # MLP.load's one line naming the file and the place
        message = str(error)
    # no usage text: the command line was right, the file is not
    print(f"autograd-lite {command}: error: {message}".replace("\n", " "), file=sys.stderr)
    raise SystemExit(2)
