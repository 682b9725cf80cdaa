"""Guards: a replay checks every decision its program recorded (``decisions.py``).

A program traced with decisions (comparisons of Values, softmax's shift, the special cases
of ``**``'s and ``sqrt``'s rules under ``grad(create_graph=True)``) holds the branch each one
took. Every ``run`` checks them again on the new numbers, after the backend's
forward and backward passes: the nodes a decision reads are reported by the backend as extra
outputs (``Guards.program``), the nodes it reads outside the loss's graph
(``program.guard_nodes``) are computed here by the engine's own ops. If one goes the other
way, ``run`` raises ``DecisionError`` (a ``ReplayError``) naming the decision, its node and
the two numbers -- never the old branch's numbers. If the backend refused a node first (the
old branch's ``log`` of a number that is now negative), the decisions are checked on the
engine's forward pass, and a decision that changed is what ``run`` reports.

A program without decisions pays nothing: ``Replay.run`` tests one attribute.

>>> from autograd_lite import Value
>>> from autograd_lite.program import record_decisions, replay, trace
>>> x = Value(2.0, label="x")
>>> with record_decisions() as made:
...     y = x * x if x > 1.0 else -x
>>> step = replay(trace(y, params=[], inputs=[x], decisions=made))
>>> step.run([3.0]).loss
9.0
>>> step.run([0.5])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
autograd_lite.program.guards.DecisionError: replay: the traced code decided x > 1.0 ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from autograd_lite.engine import OPERATIONS, Value, input_spans
from autograd_lite.modes import no_grad
from autograd_lite.program.backends import GUARDS, ReplayError, Result
from autograd_lite.program.decisions import TESTS, Decision
from autograd_lite.program.trace import Program

__all__ = ["DecisionError", "Guards", "engine_forward"]


class DecisionError(ReplayError):
    """A decision recorded at trace time goes the other way on these numbers.

    ``decision`` is the ``Decision``; ``numbers`` the two numbers it compared now.
    """

    def __init__(self, message: str, decision: Decision, numbers: tuple[float, float]) -> None:
        super().__init__(message)
        self.decision = decision
        self.numbers = numbers


def engine_forward(op: str, numbers: Sequence[float]) -> float:
    """The engine's own forward of ``op`` on ``numbers`` (a node's inputs, in order): its
    value, or the engine's error (ValueError, ZeroDivisionError, OverflowError).

    >>> engine_forward("+", [1.0, 2.0]), engine_forward("weighted_sum", [2.0, 3.0, 0.5])
    (3.0, 6.5)
    """
    forward, lists = OPERATIONS[op]
    leaves = [Value(v) for v in numbers]
    with no_grad():
        if True in lists:
            spans = input_spans(lists, len(leaves))
            groups: list[Any] = [leaves[first : first + length] if many else leaves[first]
                                 for many, (first, length) in zip(lists, spans)]  # fmt: skip
            return forward(*groups).data
        return forward(*leaves).data


class Guards:
    """The checks of one program's decisions, built once per replay.

    ``program`` is the program the backend runs: the same, with the program nodes the
    decisions read appended to its ``outputs`` (``run`` removes them from the result).
    """

    def __init__(self, program: Program) -> None:
        n = len(program)
        self.n = n
        self.source = program
        self.decisions = program.decisions
        read = {i for d in program.decisions for i in (d.left, d.right) if i < n}
        read |= {j for g in program.guard_nodes for j in g.args if j < n}
        self.watched = sorted(read)
        self.keep = len(program.outputs)
        self.program = dataclasses.replace(program, outputs=(*program.outputs, *self.watched))
        self.tests = [(TESTS[d.test], d.left, d.right, d.taken) for d in program.decisions]

    def run(self, backend: Any, inputs: list[float], params: list[float]) -> Result:
        """``backend._run(inputs, params)``, its decisions checked; ``DecisionError`` if one
        goes the other way."""
        try:
            result = backend._run(inputs, params)
        except ReplayError as refusal:
            error = self.explain(refusal, inputs, params)
            if error is refusal:
                raise
            raise error from refusal
        outputs = result.outputs
        read = outputs[self.keep :]
        self.check(read.tolist() if hasattr(read, "tolist") else read)
        return result._replace(outputs=outputs[: self.keep])

    def check(self, read: Sequence[float]) -> None:
        """Check every decision, given the values of the program nodes they read (in the
        order of ``watched``): ``DecisionError`` for the first that goes the other way."""
        values: dict[int, float | None] = dict(zip(self.watched, read))
        self._guard_nodes(values, strict=True)
        for k, (test, left, right, taken) in enumerate(self.tests):
            if test(values[left], values[right]) != taken:
                raise self._error(k, values)

    def explain(
        self, refusal: ReplayError, inputs: list[float], params: list[float]
    ) -> ReplayError:
        """What to raise when a backend refused a node: the first decision that goes the
        other way on the engine's forward pass (the refused node belongs to the old branch),
        else the refusal itself."""
        if isinstance(refusal, DecisionError):
            return refusal
        return self._changed_on_the_engine(inputs, params) or refusal

    def _guard_nodes(self, values: dict[int, float | None], strict: bool) -> None:
        """The guard nodes' values from those of the program nodes they read. A node the
        engine refuses is a ReplayError (``strict``) or unknown (None)."""
        for k, node in enumerate(self.source.guard_nodes):
            i = self.n + k
            if not node.op:
                values[i] = node.value
                continue
            numbers = [values[j] for j in node.args]
            if None in numbers:
                values[i] = None
                continue
            try:
                values[i] = engine_forward(node.op, numbers)  # type: ignore[arg-type]
            except (ArithmeticError, ValueError) as error:
                if not strict:
                    values[i] = None
                    continue
                raise ReplayError(
                    f"replay: {self._node(i)}, which a decision of the traced code reads, "
                    f"is refused by the engine on these numbers ({error}); the traced code "
                    "would fail here"
                ) from None

    def _changed_on_the_engine(
        self, inputs: list[float], params: list[float]
    ) -> DecisionError | None:
        """After a refusal: the first decision that goes the other way on the engine's
        forward pass (each node that the engine refuses, and what depends on it, left
        unknown), or None."""
        program = self.source
        values: dict[int, float | None] = dict(enumerate(program.values))
        values.update(zip(program.inputs, inputs))
        values.update(zip(program.parameters, params))
        for i, (op, args) in enumerate(zip(program.ops, program.args)):
            if not op:
                continue
            numbers = [values[j] for j in args]
            if None in numbers:
                values[i] = None
                continue
            try:
                values[i] = engine_forward(op, numbers)  # type: ignore[arg-type]
            except (ArithmeticError, ValueError):
                values[i] = None
        self._guard_nodes(values, strict=False)
        for k, (test, left, right, taken) in enumerate(self.tests):
            a, b = values[left], values[right]
            if a is not None and b is not None and test(a, b) != taken:
                return self._error(k, values)
        return None

    def _error(self, k: int, values: dict[int, Any]) -> DecisionError:
        d = self.decisions[k]
        a, b = values[d.left], values[d.right]
        now = "true" if not d.taken else "false"
        return DecisionError(
            f"replay: the traced code decided {d.what} ({d.taken} when traced), and these "
            f"numbers decide otherwise: {a!r} {d.test} {b!r} is {now}, at {self._node(d.left)}; "
            "the program holds what the code built for the traced numbers: trace again "
            "with these numbers",
            d,
            (a, b),
        )

    def _node(self, i: int) -> str:
        if i >= self.n:
            node = self.source.guard_nodes[i - self.n]
            label = f' "{node.label}"' if node.label else ""
            kind = node.op or "a constant"
            return f"guard node {i} ({kind}{label}, outside the loss's graph)"
        op, label = self.source.ops[i] or "leaf", self.source.labels[i]
        return f"node {i} ({op}{f' {label!r}' if label else ''})"


GUARDS.append(Guards)  # every Replay of a program with decisions checks them with it
