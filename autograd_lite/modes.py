"""Recording modes: whether operations record their inputs, and who watches new nodes.

One context variable holds the mode, so an operation pays for a single lookup; it keeps
``no_grad()`` and the debugging modes local to a thread or an asyncio task. The engine's
``record`` reads it for every node; ``debugging.detect_anomaly()`` sets ``observe``.
This module imports nothing of the project.

>>> with no_grad():
...     is_grad_enabled()
False
>>> is_grad_enabled()
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

__all__ = ["RECORDING", "Mode", "is_grad_enabled", "mode", "no_grad"]


class Mode(NamedTuple):
    record: bool = True  # False under no_grad(): results are leaves
    # When set, called as observe(node, op, inputs) for each new node (detect_anomaly()).
    observe: Callable[[Any, str, tuple], None] | None = None


RECORDING = Mode()
mode: ContextVar[Mode] = ContextVar("autograd_lite_mode", default=RECORDING)


@contextmanager
def no_grad() -> Iterator[None]:
    """Operations inside the block record no inputs: their results are plain leaves.

    Use it for evaluation and for updating weights. Nestable and thread-safe.

    >>> from autograd_lite import Value
    >>> x = Value(3.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.data, y.inputs
    (9.0, ())
    """
    token = mode.set(mode.get()._replace(record=False))
    try:
        yield
    finally:
        mode.reset(token)


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return mode.get().record
