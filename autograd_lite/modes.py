"""Recording modes: whether operations record their inputs, and who watches new nodes.

One context variable holds the mode, which keeps ``no_grad()`` and the debugging modes local
to a thread or an asyncio task. The engine's ``record`` needs it for every node, but reading
a context variable costs about a tenth of an operation and nearly always finds the default,
``RECORDING``; so every other mode is counted in ``SPECIAL_MODES`` while it exists, and
``record`` reads the variable only when that list is not empty. This module imports nothing
of the project.

>>> with no_grad():
...     is_grad_enabled(), len(SPECIAL_MODES)
(False, 1)
>>> is_grad_enabled(), len(SPECIAL_MODES)
(True, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["RECORDING", "SPECIAL_MODES", "Mode", "changed_mode", "is_grad_enabled", "mode",
           "no_grad"]  # fmt: skip

# One entry per Mode other than the default that exists. A context can only hold a mode that
# exists (an asyncio task keeps the mode it was created in, even after that block ends), so
# while this is empty every thread and task is recording. list.append and list.pop are
# atomic, so threads need no lock.
SPECIAL_MODES: list[None] = []


class Mode:
    """How operations record. Never changed in place: ``changed_mode`` makes another.

    * ``record``  -- False under ``no_grad()``: results are leaves;
    * ``observe`` -- when set, called as ``observe(node, op, inputs)`` for each new node
      (``detect_anomaly()``).

    >>> Mode(record=False).is_special(), RECORDING.is_special()
    (True, False)
    """

    __slots__ = ("record", "observe")

    def __init__(
        self, record: bool = True, observe: Callable[[Any, str, tuple], None] | None = None
    ) -> None:
        self.record = record
        self.observe = observe
        if self.is_special():
            SPECIAL_MODES.append(None)

    def is_special(self) -> bool:
        """True unless it is the default: recording, and nobody observing."""
        return not self.record or self.observe is not None

    # It takes back the entry it added (a Mode is never changed). The list is bound as a
    # default: it must still be there when the interpreter shuts down.
    def __del__(self, _special_modes: list[None] = SPECIAL_MODES) -> None:
        if self.is_special():
            _special_modes.pop()

    def __reduce__(self) -> tuple:  # a copy (copy, deepcopy, pickle) is counted as it is made
        return Mode, (self.record, self.observe)

    def __repr__(self) -> str:
        return f"Mode(record={self.record}, observe={self.observe!r})"


RECORDING = Mode()
mode: ContextVar[Mode] = ContextVar("autograd_lite_mode", default=RECORDING)


@contextmanager
def changed_mode(**changes: Any) -> Iterator[None]:
    """Inside the block, the current mode with ``changes`` (``record=False``, ``observe=f``).

    >>> with changed_mode(record=False):
    ...     is_grad_enabled()
    False
    """
    current = mode.get()
    token = mode.set(Mode(**{"record": current.record, "observe": current.observe, **changes}))
    try:
        yield
    finally:
        mode.reset(token)


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
    with changed_mode(record=False):
        yield


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return mode.get().record
