"""One interface for every replay backend, chosen by name.

``dispatch.replay(program, backend)`` returns a ``Replay``; ``Replay.run(inputs, params)`` feeds the
program's inputs (and, optionally, new parameter values), runs the forward pass and the
backward pass, and returns a ``Result``: the loss and d(loss)/d(parameter) for each
parameter, in the order given to ``trace``. A backend that cannot run here (NumPy missing,
no C compiler) raises ``BackendUnavailableError`` with a one-line reason.

The backends share one flat layout of the program (``Layout``): an op code per node (its
index in the backend's table of ops, ``expressions.replayable_ops()`` when it was built),
and the inputs of all nodes in one list, node ``i``'s at ``flat[starts[i]:starts[i + 1]]``.
The local derivative of node ``i`` for its k-th input lives at the same position of a
second list, so the backward pass is one loop over that list.

``replay`` itself, which picks a backend by name, is in ``dispatch.py`` (each backend
imports this module, so this module imports none of them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from autograd_lite.checks import wrong_kind
from autograd_lite.program.inputs import numbers
from autograd_lite.program.trace import Program
from autograd_lite.program.validate import validate

__all__ = [
    "BackendUnavailableError",
    "Buffers",
    "Layout",
    "Replay",
    "ReplayError",
    "Result",
    "layout",
]

LEAF = -1  # op code of a leaf


# The checks of a program's decisions: guards.Guards, which imports this module and hands
# itself over when imported (the package imports it, so it is here before any replay).
GUARDS: list[Callable[[Program], Any]] = []


class BackendUnavailableError(RuntimeError):
    """This backend cannot run here; the message says why and what to install."""


class ReplayError(ValueError):
    """A replayed op got inputs the engine refuses (log of 0, division by 0, ...), or a
    decision recorded at trace time goes the other way (``guards.DecisionError``)."""


class Result(NamedTuple):
    """What one replay gives: the loss, d(loss)/d(parameter) in ``params`` order, and the
    values of the program's ``outputs`` (empty unless traced with some). Lists of floats;
    NumPy arrays from the numpy backend."""

    loss: float
    gradients: list[float]
    outputs: list[float] = []


class Buffers(NamedTuple):
    """Where a replay keeps the numbers of a step, for ``step()``: write ``inputs`` and
    ``params`` in place, call ``step()``, read ``gradients`` and ``outputs`` (read-only),
    with no list and no copy. The C replay's are memoryviews of floats
    (``numpy.asarray(view)`` is a NumPy array over the same numbers), the NumPy replay's
    NumPy arrays."""

    inputs: Any
    params: Any
    gradients: Any
    outputs: Any


@dataclass(frozen=True)
class Layout:
    """The program as flat lists: ``codes[i]`` (``LEAF`` or an index into the backend's
    ops) and node i's inputs at ``flat[starts[i]:starts[i + 1]]``."""

    codes: list[int]
    starts: list[int]
    flat: list[int]


def layout(program: Program, ops: Sequence[str]) -> Layout:
    """Flatten ``program`` for a backend whose table of ops is ``ops`` (one pass over its
    nodes)."""
    code = op_codes(program, ops)
    codes = [code[op] if op else LEAF for op in program.ops]
    starts = [0]
    flat: list[int] = []
    for args in program.args:
        flat.extend(args)
        starts.append(len(flat))
    return Layout(codes, starts, flat)


def op_codes(program: Program, ops: Sequence[str]) -> dict[str, int]:
    """Each op's code (its index in ``ops``), or ``ReplayError`` for an op of ``program``
    that the backend's table lacks."""
    code = {op: k for k, op in enumerate(ops)}
    missing = sorted({op for op in program.ops if op and op not in code})
    if missing:
        raise ReplayError(
            f"replay: this backend cannot run the op {missing[0]!r} (it has no expressions "
            f"for it: see autograd_lite.expressions.expressions({missing[0]!r}))"
        )
    return code


def refused(program: Program, node: int, values: Sequence[float]) -> ReplayError:
    """The error for node ``node``, whose op refuses the inputs it got."""
    inputs = ", ".join(repr(float(values[j])) for j in program.args[node])
    label = f" ({program.labels[node]})" if program.labels[node] else ""
    return ReplayError(
        f"replay: {program.ops[node]} at node {node}{label} refuses its inputs {inputs}, as "
        "the engine does on this graph; check the data fed to run(), or trace again if the "
        "graph holds a number computed from the traced data (softmax's shift by the largest "
        "logit)"
    )


class Replay:
    """A program compiled for one backend. ``run`` may be called any number of times.

    ``params`` holds the parameter values the next ``run`` uses: the traced ones at first,
    then whatever was last given to ``run(params=...)``. The program is validated first
    (``validate.py``). ``program`` is the program as the backend runs it: if it holds
    decisions, its ``outputs`` end with the nodes they read (``guards.py``; ``run`` gives
    only yours).
    """

    name = ""
    _guards = None  # the checks of the program's decisions (guards.Guards), if it has any
    _checks_decisions = False  # True for a backend whose _run checks them itself (c's step)

    def __init__(self, program: Program) -> None:
        if not isinstance(program, Program):
            raise wrong_kind("replay", "program", "a Program (from trace)", program)
        validate(program)
        self._reported = len(program.outputs)  # the outputs run() gives: the program's own
        if program.decisions:
            self._guards = GUARDS[0](program)
            program = self._guards.program
        self.program = program
        self._params = [program.values[i] for i in program.parameters]

    @property
    def params(self) -> list[float]:
        """The parameter values the next ``run`` uses; set it to a flat list of as many
        numbers as were traced (checked as ``run(params=...)`` checks them)."""
        return self._params

    @params.setter
    def params(self, values: Sequence[float]) -> None:
        self._params = numbers("Replay.params", "params", values, len(self.program.parameters))

    def run(self, inputs: Sequence[float] = (), params: Sequence[float] | None = None) -> Result:
        """Forward and backward pass with these ``inputs`` (one number per traced input).

        Gives the same loss and gradients as the engine's ``backward()`` on a graph built
        from the same numbers. ``inputs`` and ``params`` are checked first, the same for
        every backend: flat lists of finite real numbers (no str, no bool), as many as
        traced; anything else is a ``TypeError``/``ValueError`` naming ``inputs[i]``.
        """
        inputs = numbers("run", "inputs", inputs, len(self.program.inputs))
        if params is not None:
            self._params = numbers("run", "params", params, len(self.program.parameters))
        if self._guards is None or self._checks_decisions:  # the backend alone
            return self._run(inputs, self._params)
        return self._guards.run(self, inputs, self._params)

    def _run(self, inputs: list[float], params: list[float]) -> Result:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name} replay of {self.program!r}>"
