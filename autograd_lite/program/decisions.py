"""Decisions: what a forward pass chose by looking at numbers, recorded so replays check it.

A traced program replays the ops that ran. Code that looked at numbers to choose which ops
to build ran one branch only, and a replay with other numbers would keep it silently:
``a if a > b else b``, Python's ``max`` and ``sorted``, a clip written with comparisons,
relu's or abs's derivative under ``grad(create_graph=True)`` (a constant 1 or 0 in the new
graph), softmax's shift by the largest logit. Such decisions are recorded here when the
graph is built, stored in the ``Program`` by ``trace``, and checked at every replay
(``guards.py``): a replay whose numbers decide otherwise raises ``ReplayError`` naming the
decision, instead of returning the old branch's numbers.

* **Comparisons** of Values (``<``, ``<=``, ``>``, ``>=``) made inside
  ``record_decisions()``: pass what it yields to ``trace(..., decisions=...)``;
* **conditions library code states** with ``require`` (softmax's shift), and those a
  derivative rule states on Values (``engine.taken_on``: ``**``'s d/dy, flat at x <= 0, and
  ``sqrt``'s slope, refused at 0, under ``grad(create_graph=True)``): these are found in the
  graph itself, no block needed, and only where the loss uses them.

>>> from autograd_lite import Value
>>> x = Value(2.0, label="x")
>>> with record_decisions() as made:
...     y = x * x if x > 1.0 else -x
>>> made
<1 decision recorded: x > 1.0>

Reading ``.data`` (``if x.data > 1.0``) cannot be seen: compare the Values themselves.
Only the standard library is imported here.
"""

from __future__ import annotations

import math
import operator
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from autograd_lite.engine import COMPARISON_WATCHERS, DERIVATIVES, RULE_CONDITIONS, Value

__all__ = [
    "TESTS",
    "Decision",
    "Decisions",
    "GuardNode",
    "collect",
    "record_decisions",
    "require",
]

# The tests a decision can make, by the symbol a message writes.
TESTS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SYMBOLS = {test: symbol for symbol, test in TESTS.items()}


class Decision(NamedTuple):
    """``left test right`` was ``taken`` (True or False) when the program was traced.

    ``left`` and ``right`` are node indices: a node of the program (below ``len(program)``)
    or ``len(program) + k`` for ``program.guard_nodes[k]``. ``what`` says it in words.
    """

    left: int
    test: str
    right: int
    taken: bool
    what: str = ""


class GuardNode(NamedTuple):
    """A node a decision reads that the loss does not: ``op`` ("" for a constant, whose
    number is ``value``) on ``args`` (indices as in ``Decision``), recomputed at each
    replay from the program's nodes (the larger of two Values that ``max`` dropped)."""

    op: str
    args: tuple[int, ...]
    value: float
    label: str = ""


# (left, test, right, taken, what): a decision as recorded, on the Values themselves
Raw = tuple[Value, str, "Value | float", bool, str]


class Decisions:
    """The comparisons recorded inside one ``record_decisions()`` block, in order.

    >>> Decisions()
    <no decision recorded>
    """

    def __init__(self, parent: Decisions | None = None) -> None:
        self.taken: list[Raw] = []
        self._parent = parent

    def add(self, decision: Raw) -> None:
        """Record one decision (an enclosing block records it too)."""
        self.taken.append(decision)
        if self._parent is not None:
            self._parent.add(decision)

    def __len__(self) -> int:
        return len(self.taken)

    def __repr__(self) -> str:
        if not self.taken:
            return "<no decision recorded>"
        shown = ", ".join(_words(left, test, right) for left, test, right, _, _ in self.taken[:3])
        more = ", ..." if len(self.taken) > 3 else ""
        plural = "s" * (len(self.taken) != 1)
        return f"<{len(self.taken)} decision{plural} recorded: {shown}{more}>"


_CURRENT: ContextVar[Decisions | None] = ContextVar("autograd_lite_decisions", default=None)


def _watch(compare: Callable, x: Value, other: object, taken: bool) -> None:
    """The engine's comparisons report here while a block records (engine._compare)."""
    made = _CURRENT.get()
    if made is None or type(x.data) is not float:  # another thread's, or a symbol's
        return
    if isinstance(other, Value):
        if type(other.data) is not float:
            return
        right: Value | float = other
    else:
        right = _as_float(other)
    # Who compared: an op's derivative rule run on Values (grad(create_graph=True) baked
    # the branch it took into the new graph), or the user's code. Three frames up: past
    # _compare and __gt__. Only while recording, so the cost does not matter.
    caller = sys._getframe(3).f_code
    rule = next((op for op, f in DERIVATIVES.items() if getattr(f, "__code__", None) is caller), "")
    what = f"{rule}'s derivative rule: {_words(x, _SYMBOLS[compare], right)}" if rule else ""
    made.add((x, _SYMBOLS[compare], right, bool(taken), what))


def _as_float(number: object) -> float:
    try:
        return float(number)  # type: ignore[arg-type]
    except OverflowError:  # an int beyond float range: compares as an infinity would
        return math.copysign(math.inf, number)  # type: ignore[arg-type]


@contextmanager
def record_decisions() -> Iterator[Decisions]:
    """Inside the block, every comparison of Values is recorded; pass what it yields to
    ``trace(..., decisions=...)``. Blocks nest (the outer one records the inner one's too)
    and belong to their thread (or asyncio task).

    >>> from autograd_lite import Value
    >>> a, b = Value(1.0, label="a"), Value(3.0, label="b")
    >>> with record_decisions() as made:
    ...     larger = max(a, b)
    >>> made  # max asks b > a
    <1 decision recorded: b > a>
    """
    made = Decisions(parent=_CURRENT.get())
    token = _CURRENT.set(made)
    COMPARISON_WATCHERS.append(_watch)
    try:
        yield made
    finally:
        COMPARISON_WATCHERS.pop()
        _CURRENT.reset(token)


# Conditions stated by library code, by the nodes whose graph was built on them: lists of
# (left, test, right, what), read when a program is traced (they are cheap to state: softmax
# states one per logit). Weak keys: an entry goes with its graph; its conditions read nodes
# below the key, never the key itself.
_STATED: weakref.WeakKeyDictionary[Value, list] = weakref.WeakKeyDictionary()


def require(anchors: Sequence[Value], conditions: list[tuple[Value, str, float, str]]) -> None:
    """State that the graph of ``anchors`` was built on ``conditions``, each ``(left, test,
    right, what)``: ``left test right`` (``test`` one of ``TESTS``) on a node below the
    anchors and a number, true or false as it is now; a replay checks that it stays so.
    ``trace`` finds them from any of ``anchors`` in the loss's graph.

    >>> from autograd_lite import Value
    >>> from autograd_lite.program import trace
    >>> z = Value(3.0, label="z")
    >>> shifted = z - 3.0
    >>> out = shifted.exp()
    >>> require([out], [(shifted, "<=", 700.0, "softmax's shift: z - shift <= 700")])
    >>> trace(out, params=[z]).decisions[0].what
    "softmax's shift: z - shift <= 700"
    """
    for anchor in anchors:
        _STATED.setdefault(anchor, []).append(conditions)


def _stated(order: Sequence[Value]) -> list[Raw]:
    """The conditions stated on these nodes (``require``; a rule's, ``engine.taken_on``),
    as decisions, each once."""
    seen: set[int] = set()
    found: list[Raw] = []
    for node in order:
        for left, test, right, taken, op in RULE_CONDITIONS.get(node, ()):
            what = f"{op}'s derivative rule: {_words(left, test, right)}"
            found.append((left, test, float(right), taken, what))
        for conditions in _STATED.get(node, ()):
            if id(conditions) in seen:
                continue
            seen.add(id(conditions))
            for left, test, right, what in conditions:
                if test not in TESTS:
                    raise ValueError(
                        f"require: test must be one of {', '.join(TESTS)}, got {test!r}"
                    )
                found.append((left, test, float(right), TESTS[test](left.data, right), what))
    return found


def _words(left: Value, test: str, right: Value | float) -> str:
    return f"{_name(left)} {test} {_name(right)}"


_INFIX = {"+", "-", "*", "/", "**"}


def _name(v: Value | float, depth: int = 2, outer: bool = True) -> str:
    """How a message names a compared Value: its label, its number, or a short formula
    of its inputs (``w * x``; ``a tanh node`` deeper down)."""
    if not isinstance(v, Value):
        return repr(v)
    if v.label or not v.op:
        return v.label or repr(v.data)
    if depth == 0 or len(v.inputs) > 2:
        return f"a {v.op} node"
    if v.op in _INFIX and len(v.inputs) == 2:
        text = f" {v.op} ".join(_name(u, depth - 1, False) for u in v.inputs)
        return text if outer else f"({text})"
    if v.op == "neg":
        inner = _name(v.inputs[0], depth - 1, False)
        return f"-({inner})" if inner.startswith("-") else f"-{inner}"
    return f"{v.op}({', '.join(_name(u, depth - 1) for u in v.inputs)})"  # sqrt(w * x)


def collect(
    order: Sequence[Value], index: dict[Value, int], fed: set[int], recorded: Decisions | None
) -> tuple[tuple[GuardNode, ...], tuple[Decision, ...]]:
    """The decisions a program built from ``order`` (its nodes; ``index``: node -> position;
    ``fed``: the positions of its parameters and inputs) must check: those ``recorded`` and
    those stated on its nodes (``require``), with the nodes they read outside the program.

    A decision on numbers no parameter or input changes can never go the other way: left
    out. One that does not hold on the traced numbers (a Value's data changed after it was
    compared) is a ValueError: it cannot be checked against anything.
    """
    raw = list(recorded.taken) if recorded is not None else []
    if _STATED or RULE_CONDITIONS:
        raw += _stated(order)
    if not raw:
        return (), ()
    n = len(order)
    depends = [False] * n  # does the node change with a parameter or an input?
    for i, node in enumerate(order):
        depends[i] = i in fed or any(depends[index[v]] for v in node.inputs)
    extra = _Extra(index, n, depends)
    found: dict[tuple, Decision] = {}
    for left, test, right, taken, what in raw:
        a, b = extra.place(left), extra.place(right)
        if not (extra.depends(a) or extra.depends(b)):
            continue  # constant: it cannot go the other way
        if TESTS[test](extra.value(a, order), extra.value(b, order)) != taken:
            raise ValueError(
                f"trace: the decision {_words(left, test, right)} was {taken} when made, "
                "but the numbers in the graph now say otherwise (a Value's data changed "
                "after it was compared); build the graph again, then trace"
            )
        words = what or _words(left, test, right)
        found.setdefault((a, test, b, taken), Decision(a, test, b, taken, words))
    return extra.kept(found.values())


class _Extra:
    """The nodes decisions read outside the program, numbered from ``n`` on."""

    def __init__(self, index: dict[Value, int], n: int, depends: list[bool]) -> None:
        self.index, self.n, self._depends = index, n, depends
        self.nodes: list[tuple[str, tuple[int, ...], float, str]] = []
        self.placed: dict[object, int] = {}

    def place(self, v: Value | float) -> int:
        """The index of ``v``: its program node, or a new extra node (with those it reads)."""
        if isinstance(v, Value) and v in self.index:
            return self.index[v]
        key = ("number", repr(v)) if not isinstance(v, Value) else id(v)
        if key in self.placed:
            return self.placed[key]
        if not isinstance(v, Value):
            return self._add(key, "", (), v, "", False)
        # depth first with a stack (a graph may be deep), each node after its inputs
        stack = [v]
        while stack:
            node = stack[-1]
            waiting = [u for u in node.inputs if u not in self.index and id(u) not in self.placed]
            if waiting:
                stack.extend(reversed(waiting))
                continue
            stack.pop()
            if id(node) in self.placed:
                continue
            args = tuple(self.index[u] if u in self.index else self.placed[id(u)]
                         for u in node.inputs)  # fmt: skip
            self._add(id(node), node.op, args, node.data, node.label, any(map(self.depends, args)))
        return self.placed[key]

    def _add(self, key: object, op: str, args: tuple, value: float, label: str, dep: bool) -> int:
        self.placed[key] = self.n + len(self.nodes)
        self.nodes.append((op, args, float(value), label))
        self._depends.append(dep)
        return self.placed[key]

    def depends(self, i: int) -> bool:
        return self._depends[i]

    def value(self, i: int, order: Sequence[Value]) -> float:
        return order[i].data if i < self.n else self.nodes[i - self.n][2]

    def kept(
        self, decisions: Iterator[Decision] | object
    ) -> tuple[tuple[GuardNode, ...], tuple[Decision, ...]]:
        """Only the extra nodes the kept decisions read, renumbered in order."""
        decisions = list(decisions)  # type: ignore[call-overload]
        used = [False] * len(self.nodes)
        pending = [i for d in decisions for i in (d.left, d.right) if i >= self.n]
        while pending:
            i = pending.pop()
            if not used[i - self.n]:
                used[i - self.n] = True
                pending.extend(j for j in self.nodes[i - self.n][1] if j >= self.n)
        new = {}
        for k, keep in enumerate(used):
            if keep:
                new[self.n + k] = self.n + len(new)

        def renumber(i: int) -> int:
            return new.get(i, i)

        nodes = tuple(
            GuardNode(op, tuple(map(renumber, args)), value, label)
            for k, (op, args, value, label) in enumerate(self.nodes)
            if used[k]
        )
        kept = tuple(d._replace(left=renumber(d.left), right=renumber(d.right)) for d in decisions)
        return nodes, kept
