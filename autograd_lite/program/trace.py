"""``trace``: flatten the graph of a loss into a ``Program``, a typed record of its nodes.

A program lists the loss's nodes in the engine's own ``topological_order`` (every node after
its inputs, the loss last). Per node: its engine op ("" for a leaf), the indices of its
inputs, the value recorded when it was traced, and its label. Leaves are of three kinds:

* **parameters** -- what training changes; a replay returns d(loss)/d(each);
* **inputs** -- fed anew at every replay (a batch of data, targets given as Values);
* **constants** -- every other leaf: numbers written in the code, and data not fed again.

It also holds the **decisions** the code took by looking at numbers (comparisons of Values
recorded with ``record_decisions()``, softmax's shift), each checked again at every replay
(``decisions.py``, ``guards.py``).

>>> from autograd_lite import Value
>>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
>>> loss = (w * x - 1.0) ** 2
>>> program = trace(loss, params=[w], inputs=[x])
>>> program.ops
('', '', '*', '', '-', '', '**')
>>> program.args[2], program.labels[program.parameters[0]], program.loss
((0, 1), 'w', 6)
>>> program.constants
(3, 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autograd_lite.engine import Value, topological_order
from autograd_lite.expressions import NotReplayableError, expressions
from autograd_lite.program.decisions import Decision, Decisions, GuardNode, collect
from autograd_lite.walk import positions

__all__ = ["Program", "trace"]


@dataclass(frozen=True)
class Program:
    """A traced loss: node ``i`` is ``ops[i]`` applied to the nodes ``args[i]``.

    Nodes are in topological order (inputs first) and ``loss`` is the last index.
    ``parameters`` and ``inputs`` are leaf indices in the order they were given to
    ``trace``; ``constants`` are the other leaves. ``decisions`` are checked at each
    replay; the nodes they read outside the loss's graph are ``guard_nodes``, numbered
    from ``len(program)`` on (``decisions.py``). ``validate.validate`` checks all of it.
    """

    ops: tuple[str, ...]
    args: tuple[tuple[int, ...], ...]
    values: tuple[float, ...]
    labels: tuple[str, ...]
    parameters: tuple[int, ...]
    inputs: tuple[int, ...]
    loss: int
    outputs: tuple[int, ...] = ()  # nodes whose values a replay reports (model outputs)
    decisions: tuple[Decision, ...] = ()  # what the code decided on numbers: checked at replay
    guard_nodes: tuple[GuardNode, ...] = ()  # nodes only the decisions read

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def constants(self) -> tuple[int, ...]:
        """Leaves that are neither parameters nor inputs, in node order."""
        fed = set(self.parameters) | set(self.inputs)
        return tuple(i for i, op in enumerate(self.ops) if not op and i not in fed)

    @property
    def edges(self) -> int:
        """How many (node, input) pairs: the chain-rule steps of one backward pass."""
        return sum(map(len, self.args))

    def __repr__(self) -> str:
        count = len(self.decisions)
        decided = f", {count} decision{'s' * (count != 1)}" if count else ""
        return (
            f"Program({len(self)} nodes, {self.edges} edges, {len(self.parameters)} parameters, "
            f"{len(self.inputs)} inputs{decided})"
        )


def trace(
    loss: Value,
    *,
    params: Sequence[Value],
    inputs: Sequence[Value] = (),
    outputs: Sequence[Value] = (),
    decisions: Decisions | None = None,
) -> Program:
    """Record the graph of ``loss`` as a ``Program``.

    ``params`` and ``inputs`` are leaves (``Value``s without an op). One that the loss does
    not depend on is still recorded (a leaf of its own), so its gradient is 0 as in the
    engine. ``outputs`` are nodes of the graph whose values each replay reports too (for
    example the model's outputs, to measure an accuracy). The loss's graph is read once,
    through ``topological_order``. ``decisions`` is what ``record_decisions()`` yielded
    around the code that built the loss: its comparisons that depend on a parameter or an
    input are checked at every replay, as are the conditions the graph states itself
    (softmax's shift).

    >>> from autograd_lite import Value
    >>> a = Value(3.0, label="a")
    >>> trace(a.tanh(), params=[a])
    Program(2 nodes, 1 edges, 1 parameters, 0 inputs)
    >>> trace(a.tanh(), params=[a.tanh()])
    Traceback (most recent call last):
    ...
    ValueError: trace(params): each must be a leaf (a Value with no op); got a tanh node
    """
    if not isinstance(loss, Value):
        raise TypeError(f"trace(loss): expected a Value, not {type(loss).__name__}")
    params, inputs = _leaves("params", params), _leaves("inputs", inputs)
    shared = {id(v) for v in params} & {id(v) for v in inputs}
    if shared:
        both = next(v for v in params if id(v) in shared)
        raise ValueError(
            f"trace: {_name(both)} is given both as a parameter and as an input; "
            "a leaf is one or the other"
        )
    order = topological_order(loss)
    index = positions(order)
    # leaves the loss does not reach go first, so that the loss stays last
    unreached = [v for v in (*params, *inputs) if v not in index]
    order = unreached + order
    index = positions(order)
    outputs = list(outputs)
    for v in outputs:
        if not isinstance(v, Value) or v not in index:
            raise ValueError(f"trace(outputs): each must be a node of the loss's graph, got {v!r}")
    for op in {node.op for node in order if node.op}:
        try:
            expressions(op)  # read off the engine's own functions, once per op
        except NotReplayableError as error:
            raise ValueError(f"trace: {error}") from None
    if decisions is not None and not isinstance(decisions, Decisions):
        raise TypeError(
            "trace(decisions): expected what record_decisions() yields, "
            f"got {type(decisions).__name__}"
        )
    fed = {index[v] for v in (*params, *inputs)}
    guard_nodes, decided = collect(order, index, fed, decisions)
    return Program(
        ops=tuple(node.op for node in order),
        args=tuple(tuple(index[v] for v in node.inputs) for node in order),
        values=tuple(node.data for node in order),
        labels=tuple(node.label for node in order),
        parameters=tuple(index[v] for v in params),
        inputs=tuple(index[v] for v in inputs),
        loss=len(order) - 1,
        outputs=tuple(index[v] for v in outputs),
        decisions=decided,
        guard_nodes=guard_nodes,
    )


def _leaves(role: str, values: Sequence[Value]) -> list[Value]:
    if isinstance(values, Value):
        raise TypeError(f"trace({role}): expected a list of Values, not a single Value")
    values = list(values)
    seen = set()
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"trace({role}): expected Values, got {type(v).__name__} {v!r}")
        if v.op:
            raise ValueError(
                f"trace({role}): each must be a leaf (a Value with no op); got a {v.op} node"
            )
        if id(v) in seen:
            raise ValueError(f"trace({role}): {_name(v)} is given twice")
        seen.add(id(v))
    return values


def _name(v: Value) -> str:
    return v.label or f"the leaf with value {v.data!r}"
